namespace PgAutoFailover.Monitor.Store;

/// <summary>Probe verdicts of a group's nodes, rebuilt from its stream.</summary>
public sealed class GroupProbeHealth
{
    public string Id { get; set; } = "";
    public Dictionary<long, bool> Healthy { get; set; } = [];

    public void Apply(ProbeHealthRecorded recorded) => Healthy[recorded.NodeId] = recorded.Healthy;

    public bool Changes(long nodeId, bool healthy) => !Healthy.TryGetValue(nodeId, out var known) || known != healthy;
}
