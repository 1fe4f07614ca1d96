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
        _failovers = meter.CreateCounter<long>("pgaf.monitor.failovers",
            description: "Failovers (planned=false) and switchovers or promotions (planned=true) started");
        // Both series exist from the start at 0: Prometheus's increase() cannot see a first failover in a
        // series that appears with the value 1, and the failover alert (deploy/prometheus/alerts.yml) uses it.
        _failovers.Add(0, Planned(false));
        _failovers.Add(0, Planned(true));
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
        foreach (var began in outcome.Decision.Events.OfType<FailoverBegan>()) _failovers.Add(1, Planned(began.Planned));
    }

    private static KeyValuePair<string, object?> Planned(bool planned) => new("planned", planned ? "true" : "false");

    private IEnumerable<Measurement<int>> ObserveNodes() =>
        _groups()
            .SelectMany(g => g.State.Nodes)
            .GroupBy(n => n.ReportedState)
            .Select(byState => new Measurement<int>(byState.Count(), new KeyValuePair<string, object?>("state", byState.Key.ToString())));
}
