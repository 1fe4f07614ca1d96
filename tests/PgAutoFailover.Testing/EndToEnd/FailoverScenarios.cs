using PgAutoFailover.Contracts;

namespace PgAutoFailover.Testing.EndToEnd;

/// <summary>What one failover or switchover run measured (issue 7 part 5), from the writer's acknowledgements.</summary>
public sealed record FailoverMeasurement(
    string Kind, string OldPrimary, string NewPrimary,
    TimeSpan? WriteWindow, TimeSpan? NewPrimaryShown, TimeSpan? Rejoin,
    int Acknowledged, int LostOnNewPrimary, int MissingOnStandby, IReadOnlyList<string> TwoWriters, string WriterSummary)
{
    public override string ToString() =>
        $"{Kind}: {OldPrimary} → {NewPrimary}; write window {Seconds(WriteWindow)}, new primary shown after {Seconds(NewPrimaryShown)}, " +
        $"rejoin {Seconds(Rejoin)}; {Acknowledged} acknowledged, {LostOnNewPrimary} lost on the new primary, {MissingOnStandby} missing on the standby, " +
        $"{TwoWriters.Count} two-writer rounds; writer: {WriterSummary}";

    private static string Seconds(TimeSpan? t) => t is { } v ? $"{v.TotalSeconds:F3} s" : "n/a";
}

/// <summary>
/// Scenarios (a) crash of the primary and (b) switchover, with the write load and the two-writer poller
/// running throughout; shared by the end-to-end tests (which assert correctness) and bench/failover
/// (which prints the figures). The cluster must hold two converged nodes.
/// </summary>
public static class FailoverScenarios
{
    /// <summary>One insert every 15 ms: a tiny, bounded rate.</summary>
    public static readonly TimeSpan WriteInterval = TimeSpan.FromMilliseconds(15);
    private static readonly TimeSpan LoadLimit = TimeSpan.FromMinutes(6);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    public static bool Writable(NodeState s) => s is NodeState.Single or NodeState.WaitPrimary or NodeState.Primary;

    /// <summary>
    /// (a) SIGKILL the primary's keeper and postmaster at once; the standby takes writes; the old node's keeper restarts
    /// and it rejoins as a synchronous standby. <paramref name="duringFailover"/>, if given, starts right after the
    /// crash (more faults while the failover runs) and is awaited once the new primary takes writes.
    /// </summary>
    public static async Task<FailoverMeasurement> CrashPrimaryAsync(ProcessCluster cluster, Action<string>? log = null, Func<Task>? duringFailover = null)
    {
        var (oldName, old, poller, load) = await StartLoadOnPrimaryAsync(cluster);
        await using var _ = poller;
        await using var __ = load;

        var fault = WriteLoad.Clock.Elapsed;
        log?.Invoke($"crash of {oldName} (keeper and postmaster, SIGKILL) at {fault.TotalSeconds:F3} s");
        await old.CrashAsync();
        var during = duringFailover?.Invoke() ?? Task.CompletedTask;

        var newName = await WaitNewPrimaryShownAsync(cluster, oldName);
        var shown = WriteLoad.Clock.Elapsed - fault;
        var fresh = cluster.Node(newName);
        log?.Invoke($"{newName} shown as primary after {shown.TotalSeconds:F3} s");
        await load.WaitAcksAfterAsync(fault, 30, "the crash", Patience);
        await WaitAcksOnAsync(load, fresh, fault);
        var window = load.Window(fault, old.Port);
        log?.Invoke($"writes back after a window of {window?.TotalSeconds:F3} s");
        await during;

        var restart = WriteLoad.Clock.Elapsed;
        old.StartKeeper();
        await cluster.WaitConvergedAsync(newName, Patience);
        await WaitSynchronousAsync(fresh, 1);
        var rejoin = WriteLoad.Clock.Elapsed - restart;
        log?.Invoke($"{oldName} rejoined as a synchronous standby {rejoin.TotalSeconds:F3} s after its keeper restarted");
        await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 30, "the rejoin", Patience);
        return await FinishAsync("crash", load, poller, oldName, fresh, old, window, shown, rejoin);
    }

    /// <summary>(b) Planned switchover under the write load; roles swapped, both healthy afterwards.</summary>
    public static async Task<FailoverMeasurement> SwitchoverAsync(ProcessCluster cluster, Action<string>? log = null)
    {
        var (oldName, old, poller, load) = await StartLoadOnPrimaryAsync(cluster);
        await using var _ = poller;
        await using var __ = load;

        var fault = WriteLoad.Clock.Elapsed;
        log?.Invoke($"switchover from {oldName} at {fault.TotalSeconds:F3} s");
        await RequestSwitchoverAsync(cluster, log);
        var newName = await WaitNewPrimaryShownAsync(cluster, oldName);
        var shown = WriteLoad.Clock.Elapsed - fault;
        var fresh = cluster.Node(newName);
        await load.WaitAcksAfterAsync(fault, 30, "the switchover", Patience);
        await WaitAcksOnAsync(load, fresh, fault);
        var window = load.Window(fault, old.Port);
        await cluster.WaitConvergedAsync(newName, Patience);
        await WaitSynchronousAsync(fresh, 1);
        var rejoin = WriteLoad.Clock.Elapsed - fault;
        await cluster.WaitForAsync(s => s.Nodes.All(n => n.Health == NodeHealth.Good), "both nodes to be healthy", Patience);
        log?.Invoke($"{newName} primary, {oldName} synchronous standby after {rejoin.TotalSeconds:F3} s; write window {window?.TotalSeconds:F3} s");
        await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 30, "the old primary rejoined", Patience);
        return await FinishAsync("switchover", load, poller, oldName, fresh, old, window, shown, rejoin);
    }

    /// <summary>
    /// Asks for the switchover as an operator's script would: the monitor refuses one while a keeper's last report is
    /// older than its silence timeout (2 s), which on a loaded box just after a broker restart happens for a moment
    /// although the test saw both reporting; such a refusal says "retry when it is healthy", so it is retried until
    /// the deadline. Any other refusal fails at once.
    /// </summary>
    private static async Task RequestSwitchoverAsync(ProcessCluster cluster, Action<string>? log)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                await cluster.OperatorAsync(new PerformSwitchover(ProcessCluster.Formation, 0));
                return;
            }
            catch (InvalidOperationException e) when (e.Message.Contains("has not reported", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            {
                log?.Invoke($"switchover refused for now ({e.Message}); asking again");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    /// <summary>The converged primary, a poller and a write load through the uri-service's URI, acknowledging already.</summary>
    private static async Task<(string OldName, DataNode Old, WriterPoller Poller, WriteLoad Load)> StartLoadOnPrimaryAsync(ProcessCluster cluster)
    {
        var before = await cluster.WaitConvergedAsync(timeout: Patience);
        var oldName = ProcessCluster.ConvergedPrimary(before)!.Node.NodeName;
        var old = cluster.Node(oldName);
        var uri = await cluster.WaitUriAsync();
        var poller = WriterPoller.Start(cluster);
        var load = await WriteLoad.StartAsync(old, uri, WriteInterval, LoadLimit);
        await load.WaitAcksAfterAsync(WriteLoad.Clock.Elapsed, 60, "the load to start");
        return (oldName, old, poller, load);
    }

    /// <summary>Name of the node the monitor shows as converged in a writable state, once it is not <paramref name="oldName"/>.</summary>
    private static async Task<string> WaitNewPrimaryShownAsync(ProcessCluster cluster, string oldName)
    {
        var state = await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName != oldName && Writable(n.ReportedState) && n.ReportedState == n.GoalState),
            "another node to be shown as the primary", Patience);
        return state.Nodes.Single(n => n.Node.NodeName != oldName && Writable(n.ReportedState)).Node.NodeName;
    }

    public static Task WaitAcksOnAsync(WriteLoad load, DataNode node, TimeSpan after) =>
        Eventually.TrueAsync(() => Task.FromResult(load.Acks.Any(a => a.At > after && a.Port == node.Port)),
            $"a write acknowledged by {node.Name} ({load.Summary})", Patience);

    /// <summary>The primary lists <paramref name="count"/> standbys in sync_state 'sync' or 'quorum'.</summary>
    public static Task WaitSynchronousAsync(DataNode primary, int count) =>
        Eventually.TrueAsync(async () =>
        {
            try { return await primary.ScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum') AND state = 'streaming'") >= count; }
            catch (Npgsql.NpgsqlException) { return false; }
        }, $"{count} synchronous standby(s) streaming from {primary.Name}", Patience);

    private static async Task<FailoverMeasurement> FinishAsync(string kind, WriteLoad load, WriterPoller poller, string oldName, DataNode fresh, DataNode standby,
        TimeSpan? window, TimeSpan shown, TimeSpan rejoin)
    {
        await load.StopAsync();
        await poller.DisposeAsync();
        var lost = await load.MissingOnAsync(fresh);
        var missingOnStandby = await load.MissingAfterCatchUpAsync(standby, TimeSpan.FromSeconds(60));
        return new FailoverMeasurement(kind, oldName, fresh.Name, window, shown, rejoin, load.Acks.Count, lost.Count, missingOnStandby.Count,
            poller.Violations, load.Summary);
    }
}
