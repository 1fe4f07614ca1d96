using System.Collections.Concurrent;
using Npgsql;

namespace PgAutoFailover.Testing.EndToEnd;

/// <summary>
/// Issue 7 (f): every 100 ms, connect to every node directly (no pooling, short timeout), all nodes at the
/// same moment, and ask whether it would accept a write right now:
/// <c>NOT pg_is_in_recovery() AND transaction_read_only = off</c> (what a new session would get, so
/// the keeper's fencing by default_transaction_read_only counts as not writable). A round in which two
/// nodes both answer "writable" is recorded as a violation.
/// </summary>
public sealed class WriterPoller : IAsyncDisposable
{
    private const string Sql = "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'";
    private readonly Func<IReadOnlyList<DataNode>> _nodes;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentQueue<TimeSpan> _roundStarts = new();
    private readonly Task _loop;

    private WriterPoller(Func<IReadOnlyList<DataNode>> nodes)
    {
        _nodes = nodes;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Polls the cluster's nodes (nodes added later are polled too).</summary>
    public static WriterPoller Start(ProcessCluster cluster) => new(() => cluster.Nodes.ToList());

    public long Rounds => _roundStarts.Count;
    public IReadOnlyList<string> Violations => _violations.ToList();

    /// <summary>Completed rounds that started within [<paramref name="from"/>, <paramref name="to"/>) on <see cref="WriteLoad.Clock"/>.</summary>
    public int RoundsBetween(TimeSpan from, TimeSpan to) => _roundStarts.Count(t => t >= from && t < to);

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            var started = WriteLoad.Clock.Elapsed;
            var nodes = _nodes();
            var answers = await Task.WhenAll(nodes.Select(n => WritableAsync(n, token)));
            var writable = nodes.Where((n, i) => answers[i]).Select(n => n.Name).ToList();
            if (writable.Count > 1)
            {
                _violations.Enqueue($"at {started.TotalSeconds:F3} s: {string.Join(", ", writable)} all accept writes");
            }
            _roundStarts.Enqueue(started);
            var wait = TimeSpan.FromMilliseconds(100) - (WriteLoad.Clock.Elapsed - started);
            try { if (wait > TimeSpan.Zero) await Task.Delay(wait, token); } catch (OperationCanceledException) { break; }
        }
    }

    private static async Task<bool> WritableAsync(DataNode node, CancellationToken token)
    {
        try
        {
            await using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
            {
                Host = node.WatchHost, Port = node.Port, Username = "postgres", Database = "postgres",
                Pooling = false, Timeout = 1, CommandTimeout = 1,
            }.ConnectionString);
            await c.OpenAsync(token);
            await using var cmd = new NpgsqlCommand(Sql, c);
            return await cmd.ExecuteScalarAsync(token) is true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        await _loop;
        _stop.Dispose();
    }
}
