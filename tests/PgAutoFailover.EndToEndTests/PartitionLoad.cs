using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.EndToEndTests;

/// <summary>The write load of the network-fault tests, and how they read it.</summary>
internal static class PartitionLoad
{
    /// <summary>
    /// Writes through the multi-host URI with the client settings docs/client-paths.md gives for partitions: a query
    /// on a primary cut off gets no reset, only silence, so the client's own timeouts decide when it moves on (a 2 s
    /// command timeout, no wait for a cancellation the cut primary cannot receive, 1 s per host to connect).
    /// Returns once 20 writes were acknowledged on <paramref name="primary"/>.
    /// </summary>
    public static async Task<WriteLoad> StartAsync(ProcessCluster cluster, DataNode primary)
    {
        var load = await WriteLoad.StartAsync(primary, WriteLoad.Opener(WriteLoad.ToNpgsql(await cluster.WaitUriAsync(), timeoutSeconds: 1, commandTimeoutSeconds: 2)
            + ";Cancellation Timeout=-1"), FailoverScenarios.WriteInterval, TimeSpan.FromHours(3)); // a long campaign (PGAF_FAULTS=200) lasts about 35 minutes
        try
        {
            await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 20, $"writes on {primary.Name}");
            return load;
        }
        catch
        {
            await load.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A writer on <paramref name="node"/>'s side of any partition: it writes to that node only, over its Unix socket,
    /// which no network fault cuts, whatever the node's role (on a standby every INSERT fails, read-only). What it has
    /// acknowledged must be on the final primary like the rest: a primary cut off must not acknowledge a write it then
    /// loses. One write every 100 ms (a refused one costs a new backend).
    /// </summary>
    public static Task<WriteLoad> StartPinnedAsync(DataNode primary, DataNode node) =>
        WriteLoad.StartAsync(primary, WriteLoad.Opener(new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = node.WatchHost, Port = node.Port, Username = "postgres", Database = "postgres", Pooling = false,
            Timeout = 1, CommandTimeout = 2, CancellationTimeout = -1,
        }.ConnectionString), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(3));

    /// <summary>The longest time between two acknowledged writes within [<paramref name="from"/>, <paramref name="to"/>].</summary>
    public static TimeSpan MaxGap(WriteLoad load, TimeSpan from, TimeSpan to)
    {
        var times = load.Acks.Select(a => a.At).Where(t => t >= from && t <= to).Order().Prepend(from).Append(to).ToList();
        return times.Zip(times.Skip(1), (a, b) => b - a).Max();
    }
}
