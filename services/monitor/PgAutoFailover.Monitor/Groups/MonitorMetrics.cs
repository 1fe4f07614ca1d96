using System.Diagnostics.Metrics;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>The monitor's metrics, under the Meter named like the service.</summary>
public sealed class MonitorMetrics
{
    private readonly Histogram<double> _decisionLatency;
    private readonly Counter<long> _goalAssignments;
    private readonly Counter<long> _failovers;
    private Func<IEnumerable<LoadedGroup>> _groups = () => [];

    public MonitorMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MonitorService.Telemetry.ServiceName);
        _decisionLatency = meter.CreateHistogram<double>("pgaf.monitor.decision.duration", "ms",
            "Time from a trigger's arrival at its group to its decision being stored and published");
        _goalAssignments = meter.CreateCounter<long>("pgaf.monitor.goal_assignments", description: "Goal states assigned, by goal");
        _failovers = meter.CreateCounter<long>("pgaf.monitor.failovers", description: "Failovers, switchovers and promotions started");
        Conflicts = meter.CreateCounter<long>("pgaf.monitor.version_conflicts",
            description: "Decisions redone because another instance advanced the group first");
        meter.CreateObservableGauge("pgaf.monitor.nodes", ObserveNodes, description: "Nodes by reported state");
    }

    public Counter<long> Conflicts { get; }

    public void ObserveGroups(Func<IEnumerable<LoadedGroup>> groups) => _groups = groups;

    public void RecordDecision(GroupOutcome outcome, TimeSpan elapsed)
    {
        _decisionLatency.Record(elapsed.TotalMilliseconds);
        foreach (var assignment in outcome.Decision.Assignments)
        {
            _goalAssignments.Add(1, new KeyValuePair<string, object?>("goal", assignment.Goal.ToString()));
        }
        if (outcome.Decision.Events.OfType<FailoverBegan>().Any()) _failovers.Add(1);
    }

    private IEnumerable<Measurement<int>> ObserveNodes() =>
        _groups()
            .SelectMany(g => g.State.Nodes)
            .GroupBy(n => n.ReportedState)
            .Select(byState => new Measurement<int>(byState.Count(), new KeyValuePair<string, object?>("state", byState.Key.ToString())));
}
