using Marten;
using Npgsql;

namespace PgAutoFailover.Monitor.Store;

/// <summary>Monitor-wide node lookups and node id allocation (a PostgreSQL sequence: ids 1, 2, 3… as operators expect).</summary>
public sealed class NodeDirectory(IDocumentStore store, NpgsqlDataSource dataSource)
{
    private const string Sequence = "pgaf_monitor.node_id_seq";

    /// <summary>Unique index on (host, port): one node per address across the whole monitor (docs/states.md#node-states).</summary>
    public const string AddressIndex = "pgaf_node_address";

    /// <summary>Unique index on (formation, name): one node per name within a formation.</summary>
    public const string NameIndex = "pgaf_node_name";

    /// <summary>
    /// Creates or updates the store's schema. Monitors started together on a fresh store would race on it (one of
    /// three failed with "relation … already exists"): an advisory lock lets one migrate while the others wait, then
    /// find nothing to do.
    /// </summary>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock($1)", connection))
        {
            take.Parameters.AddWithValue(SchemaLock);
            await take.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            await using var command = dataSource.CreateCommand($"CREATE SEQUENCE IF NOT EXISTS {Sequence}");
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
            release.Parameters.AddWithValue(SchemaLock);
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>The advisory lock key of schema changes ("pgafschm" in ASCII).</summary>
    private const long SchemaLock = 0x70676166_7363686D;

    /// <summary>The desired id when free (and the sequence moves past it), else the next one.</summary>
    public async Task<long> AllocateAsync(long? desired, CancellationToken cancellationToken)
    {
        if (desired is { } id && id > 0 && await FindAsync(id, cancellationToken) is null)
        {
            await using var bump = dataSource.CreateCommand(
                $"SELECT setval('{Sequence}', greatest($1, (SELECT last_value FROM {Sequence})))");
            bump.Parameters.AddWithValue(id);
            await bump.ExecuteScalarAsync(cancellationToken);
            return id;
        }
        while (true)
        {
            await using var next = dataSource.CreateCommand($"SELECT nextval('{Sequence}')");
            var candidate = (long)(await next.ExecuteScalarAsync(cancellationToken))!;
            if (await FindAsync(candidate, cancellationToken) is null) return candidate;
        }
    }

    public async Task<NodeRecord?> FindAsync(long nodeId, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<NodeRecord>(nodeId, cancellationToken);
    }

    public async Task<NodeRecord?> FindAsync(string host, int port, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.Query<NodeRecord>().FirstOrDefaultAsync(n => n.Host == host && n.Port == port, cancellationToken);
    }

    public async Task<NodeRecord?> FindAsync(string formation, string name, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.Query<NodeRecord>().FirstOrDefaultAsync(n => n.Formation == formation && n.Name == name, cancellationToken);
    }

    public async Task<int> CountAsync(string formation, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.Query<NodeRecord>().CountAsync(n => n.Formation == formation, cancellationToken);
    }
}
