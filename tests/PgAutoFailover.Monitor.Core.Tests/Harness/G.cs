using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core.Tests.Harness;

/// <summary>
/// Builds a group state directly (nodes in given reported/goal states, healthy or dead) to test one rule at a
/// time. "Dead" = keeper silent for 10 s and three failed probes; "healthy" = reported and probed just now.
/// </summary>
internal sealed class G
{
    public static readonly DateTimeOffset Now = Cluster.Start + TimeSpan.FromMinutes(1);
    private long _sequence = 1000;

    public G(int numberSyncStandbys = 0, bool guardDataLoss = true)
    {
        State = GroupState.Empty(new GroupSettings("default", NumberSyncStandbys: numberSyncStandbys, GuardDataLoss: guardDataLoss), Cluster.Start);
    }

    public MonitorCore Core { get; } = new();
    public GroupState State { get; set; }
    public MonitorNode this[long id] => State[id];

    public G Node(long id, NodeState reported, NodeState? goal = null, int priority = 50, bool quorum = true,
        ulong lsn = 0x3000000, bool dead = false, bool pgIsRunning = true, int timeline = 1)
    {
        var node = new MonitorNode
        {
            NodeId = id, Name = $"node_{id}", Host = "localhost", Port = 5400 + (int)id,
            ReportedState = reported, GoalState = goal ?? reported, StateChangedAt = Now - TimeSpan.FromSeconds(30),
            CandidatePriority = priority, ReplicationQuorum = quorum, Lsn = lsn, Timeline = timeline,
            PgIsRunning = pgIsRunning,
            LastReportAt = dead ? Now - TimeSpan.FromSeconds(10) : Now - TimeSpan.FromMilliseconds(200),
            LastReportSequence = 1,
            Health = dead ? NodeHealth.Bad : NodeHealth.Good,
            HealthCheckAt = Now - TimeSpan.FromMilliseconds(300),
            ConsecutiveProbeFailures = dead ? 3 : 0,
            EverAssignedWritable = States.IsWritable(goal ?? reported) || States.IsWritable(reported),
            ReportedStreaming = States.IsStreaming(reported),
        };
        State = State with { AllNodes = State.AllNodes.SetItem(id, node) };
        return this;
    }

    public G With(long id, Func<MonitorNode, MonitorNode> change)
    {
        State = State with { AllNodes = State.AllNodes.SetItem(id, change(State[id])) };
        return this;
    }

    /// <summary>Node <paramref name="id"/> reports (by default its current reported state); the decision is applied.</summary>
    public Decision Report(long id, NodeState? state = null, bool pgIsRunning = true, ulong? lsn = null, int timeline = 1,
        string rep = "quorum", DateTimeOffset? at = null, TimeSpan? unacknowledged = null) =>
        Do(new ReportTrigger(id, state ?? State[id].ReportedState, pgIsRunning, timeline, lsn ?? State[id].Lsn, rep, ++_sequence,
            UnacknowledgedWalAge: unacknowledged), at);

    public Decision Do(Trigger trigger, DateTimeOffset? at = null)
    {
        var d = Core.Decide(State, trigger, at ?? Now);
        if (d.Accepted) State = d.Events.Aggregate(State, GroupProjection.Apply);
        return d;
    }

    public static IEnumerable<(string Rule, long Node, NodeState Goal)> Summary(Decision d) =>
        d.Assignments.Select(a => (a.Rule, a.NodeId, a.Goal));
}

internal static class DecisionAssertions
{
    public static void Assigns(this Decision d, params (string Rule, long Node, NodeState Goal)[] expected)
    {
        Assert.True(d.Accepted, d.Refusal?.Reason);
        Assert.Equal(expected, G.Summary(d));
    }

    public static void AssignsNothing(this Decision d)
    {
        Assert.True(d.Accepted, d.Refusal?.Reason);
        Assert.Empty(d.Assignments);
    }

    public static void Refused(this Decision d, RefusalKind kind, string reasonContains)
    {
        Assert.False(d.Accepted);
        Assert.Empty(d.Events);
        Assert.Equal(kind, d.Refusal!.Kind);
        Assert.Contains(reasonContains, d.Refusal.Reason);
    }
}
