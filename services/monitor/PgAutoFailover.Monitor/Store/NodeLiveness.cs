using PgAutoFailover.Monitor.Core.Events;

namespace PgAutoFailover.Monitor.Store;

/// <summary>
/// The latest liveness-only facts of a node (report time, LSN, probe counters), overwritten in place
/// instead of growing the group's stream by one event per second per node.
/// </summary>
public sealed class NodeLiveness
{
    /// <summary>Node id.</summary>
    public long Id { get; set; }
    public string StreamKey { get; set; } = "";
    public NodeReported? LatestReport { get; set; }
    public ProbeRecorded? LatestProbe { get; set; }
}
