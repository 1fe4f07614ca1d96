using Npgsql;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Reads how much WAL a standby holds once its primary is gone. The standby may be mid-restart (report_lsn freezes it by
/// restarting PostgreSQL without a primary), so a failed read is retried on a fresh connection; a value is accepted only
/// while the node is still in recovery, since a promoted node's LSN moves on and would say nothing about the election.
/// </summary>
internal sealed class FrozenLsnProbe(DataNode node, NpgsqlConnection connection) : IAsyncDisposable
{
    private const string Sql =
        "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), '0/0')";

    private NpgsqlConnection? _connection = connection;

    public static async Task<FrozenLsnProbe> OpenAsync(DataNode node)
    {
        var connection = new NpgsqlConnection(node.ConnectionString());
        await connection.OpenAsync();
        return new FrozenLsnProbe(node, connection);
    }

    public async Task<decimal> ReadAsync(TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                if (_connection is null)
                {
                    _connection = new NpgsqlConnection(node.ConnectionString());
                    await _connection.OpenAsync();
                }
                await using var command = new NpgsqlCommand(Sql, _connection);
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                if (!reader.GetBoolean(0)) throw new InvalidOperationException($"{node.Name} left recovery before its LSN could be read");
                return reader.GetDecimal(1);
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await DisposeAsync();
                await Task.Delay(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
        _connection = null;
    }
}
