using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core;

/// <summary>
/// The primary's write lease (safety rule 3, docs/architecture.md#safety-rules).
/// <para>Granting: every accepted report from a node whose goal is writable earns a lease of
/// <see cref="MonitorOptions.PrimaryLease"/>, recorded as <see cref="LeaseGranted"/> with the monitor's
/// receive time + L as expiry (the keeper counts from its earlier send time, so its expiry is never later).
/// A primary that a failover is moving away from gets no new lease.</para>
/// <para>Fencing: a node that last reported a writable state may accept writes until
/// max(lease expiry, last moment any other node may have streamed from it + L) + margin, because its keeper
/// keeps serving while a synchronous standby replied within L. A node that reported a non-writable state
/// in a report later than its last lease has confirmed it is not writing (the keeper records a state only
/// after its transition succeeded, and becomes a writer only with a lease). So has a node that reported
/// PostgreSQL not running: keeper requirement, a keeper (re)starts a writable PostgreSQL only while it holds
/// an unexpired lease. A node whose last report was answered with a lease may have become a writer since,
/// whatever it reported.</para>
/// </summary>
public static class Lease
{
    /// <summary>
    /// The instant after which <paramref name="y"/> is provably not accepting writes, or null when it already
    /// confirmed it is not a writer.
    /// </summary>
    public static DateTimeOffset? FencedAt(GroupState g, MonitorNode y, MonitorOptions o, DateTimeOffset now)
    {
        var leaseAfterLastReport = y.LeaseReportSequence >= y.LastReportSequence && y.LeaseExpiresAt is not null;
        var confirmedNotWriting = !States.IsWritable(y.ReportedState) || !y.PgIsRunning;
        if (confirmedNotWriting && !leaseAfterLastReport) return null;
        // A standby that last said it was streaming and has gone silent may still be streaming from y (a partition
        // can cut both from the monitor and not from each other), and its replies keep y serving: y is not provably
        // fenced until that standby reports again or is removed. Any standby, not only the quorum ones: the keeper
        // keeps serving while any standby replies, and y may still list one whose quorum flag changed since.
        foreach (var x in g.AllNodes.Values)
        {
            if (x.NodeId != y.NodeId && x.ReportedStreaming && !HealthPredicates.IsReporting(x, o, now))
                return DateTimeOffset.MaxValue;
        }
        var until = y.LeaseExpiresAt ?? DateTimeOffset.MinValue;
        if (g.RemovedStreamingUntil is { } removed && removed + o.PrimaryLease > until) until = removed + o.PrimaryLease;
        foreach (var x in g.AllNodes.Values)
        {
            if (x.NodeId != y.NodeId && x.StreamingUntil is { } s && s + o.PrimaryLease > until)
                until = s + o.PrimaryLease;
        }
        return until == DateTimeOffset.MinValue ? g.MonitorStartedAt + o.LeaseSafetyMargin : until + o.LeaseSafetyMargin;
    }

    /// <summary>
    /// When <paramref name="y"/> stopped (or will have stopped) accepting writes: its fence time, or, when it
    /// confirmed it is not writing, the report that confirmed it. Null when it never reported.
    /// </summary>
    public static DateTimeOffset? WritesEndedBy(GroupState g, MonitorNode y, MonitorOptions o, DateTimeOffset now) =>
        FencedAt(g, y, o, now) ?? y.NotWritingSince ?? y.LastReportAt;

    /// <summary>Latest instant some node other than <paramref name="candidate"/> may accept writes, or null if none may now.</summary>
    public static DateTimeOffset? OtherWriterUntil(GroupState g, MonitorNode candidate, MonitorOptions o, DateTimeOffset now)
    {
        DateTimeOffset? latest = null;
        foreach (var y in g.AllNodes.Values)
        {
            if (y.NodeId == candidate.NodeId) continue;
            if (FencedAt(g, y, o, now) is { } at && at > now && (latest is null || at > latest)) latest = at;
        }
        return latest;
    }

    /// <summary>
    /// How long a node may still accept writes, in an operator's words, to follow "may still accept writes": a time
    /// of day with the seconds left, or, when no bound is known (<see cref="DateTimeOffset.MaxValue"/>), which silent
    /// standby keeps it so and what ends it.
    /// </summary>
    public static string Until(GroupState g, MonitorOptions o, DateTimeOffset now, DateTimeOffset until)
    {
        if (until != DateTimeOffset.MaxValue)
        {
            return $"until {until.UtcDateTime:HH:mm:ss.fff} UTC ({Math.Max(0, (until - now).TotalSeconds):F1} s from now)";
        }
        var silent = g.AllNodes.Values.Where(x => x.ReportedStreaming && !HealthPredicates.IsReporting(x, o, now)).Select(x => x.Label).ToList();
        var who = silent.Count == 0 ? "a silent standby" : string.Join(", ", silent);
        return $"for as long as {who}, silent since it last said it was streaming, may still stream from it and acknowledge its " +
               "commits: until it reports again, or is removed with pgaf drop node --force once known to be lost";
    }

    internal static DateTimeOffset? OtherWriterUntil(DecisionContext ctx, MonitorNode candidate) =>
        OtherWriterUntil(ctx.State, candidate, ctx.Options, ctx.Now);

    /// <summary>True when <paramref name="candidate"/> may be given a writable goal now; otherwise notes why not.</summary>
    internal static bool CandidateMayTakeWrites(DecisionContext ctx, MonitorNode candidate)
    {
        if (OtherWriterUntil(ctx, candidate) is not { } until) return true;
        ctx.Note($"{candidate.Label} waits: the old primary may still accept writes {Until(ctx.State, ctx.Options, ctx.Now, until)}");
        if (until != DateTimeOffset.MaxValue) ctx.WakeAt(until);
        return false;
    }

    /// <summary>Grants a lease to the reporting node when its goal is writable (called after the rules ran).</summary>
    internal static LeaseGranted? Grant(DecisionContext ctx, long nodeId, long reportSequence)
    {
        var node = ctx.Node(nodeId);
        if (!States.IsWritable(node.GoalState)) return null;
        if (ctx.State.Failover is { OldPrimaryId: { } old } failover && old == nodeId)
        {
            // FAILOVER-ABANDONED: the failover away from this node has nobody left to promote (the candidate
            // was dropped or lost), and the node still holds the group's only writable goal: it keeps its role.
            // Nodes merely reporting their LSN do not count: nobody was elected, and the primary is back.
            var promoting = ctx.Nodes.Any(n => n.NodeId != nodeId && (DecisionContext.BeingPromoted(n)
                || n.GoalState is NodeState.PreparePromotion or NodeState.StopReplication or NodeState.FastForward));
            if (promoting) return null;
            ctx.Emit(new FailoverEnded(failover.FailoverId, nodeId, ctx.Now));
            ctx.Note($"the failover away from {node.Label} was abandoned: no node is being promoted");
        }
        var granted = new LeaseGranted(nodeId, reportSequence, ctx.Options.PrimaryLease, ctx.Now + ctx.Options.PrimaryLease, ctx.Now);
        ctx.Emit(granted);
        return granted;
    }
}
