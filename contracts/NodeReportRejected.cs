namespace PgAutoFailover.Contracts;

/// <summary>
/// Monitor → keeper answer to <see cref="ReportNodeState"/> when the report cannot be taken: the node is
/// unknown to the monitor (dropped, or registered with another monitor), it reported a state it cannot
/// be in, or the report is older than one already taken. The keeper keeps its PostgreSQL as it is, logs the
/// reason and does not act on any goal.
/// </summary>
/// <param name="Formation">Formation named in the report.</param>
/// <param name="GroupId">Group named in the report.</param>
/// <param name="NodeId">Node named in the report.</param>
/// <param name="NodeUnknown">True when the monitor has no such node (the keeper may have been dropped).</param>
/// <param name="Reason">One line saying why.</param>
/// <param name="LastAcceptedEpoch">Set when the report was refused as stale (out of order, from an earlier keeper run, or
/// behind a report with a later sequence): the epoch of the report the monitor last accepted. The keeper moves its epoch
/// past it, so its next report is taken.</param>
public sealed record NodeReportRejected(string Formation, int GroupId, long NodeId, bool NodeUnknown, string Reason,
    long? LastAcceptedEpoch = null);
