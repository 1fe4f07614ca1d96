using System.Diagnostics.Metrics;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Model;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// What an on-call reads per node and per group, observed from the groups in memory at each scrape
/// (docs/operations.md#metrics lists them with the alert rules that use them). States are exported as
/// Prometheus state sets: one series valued 1 whose <c>state</c> label is the current state, so a rule can match
/// <c>pgaf_node_reported_state{state="primary"}</c>.
/// </summary>
public sealed class NodeMetrics
{
    private readonly TimeProvider _time;
    private readonly MonitorOptions _options;
    private Func<IEnumerable<LoadedGroup>> _groups = () => [];

    public NodeMetrics(IMeterFactory meters, TimeProvider time, MonitorServiceOptions options)
    {
        _time = time;
        _options = options.Core;
        var meter = meters.Create(MonitorService.Telemetry.ServiceName);
        meter.CreateObservableGauge("pgaf.node.reported_state", () => PerNode(n => 1, n => [new("state", Name(n.ReportedState))]),
            description: "1 for the state the node's keeper last reported");
        meter.CreateObservableGauge("pgaf.node.goal_state", () => PerNode(n => 1, n => [new("state", Name(n.GoalState))]),
            description: "1 for the goal state the monitor assigned");
        meter.CreateObservableGauge("pgaf.node.health", () => PerNode(n => 1, n => [new("health", WireNames<NodeHealth>.Of(n.Health))]),
            description: "1 for the probes' verdict on the node: good, bad or unknown");
        meter.CreateObservableGauge("pgaf.node.postgres_running", () => PerNode(n => n.PgIsRunning ? 1 : 0),
            description: "1 when the keeper last said PostgreSQL is running");
        meter.CreateObservableGauge("pgaf.node.streaming", ObserveStreaming,
            description: "Standbys only: 1 when the keeper last said its WAL receiver streams from the primary");
        meter.CreateObservableGauge("pgaf.node.replication_lag", ObserveLag, "By",
            "Standbys only: bytes of WAL between the primary's last reported LSN and the standby's");
        meter.CreateObservableGauge("pgaf.node.report_age", ObserveReportAge, "s",
            "Seconds since the node's keeper last reported to the monitor");
        meter.CreateObservableGauge("pgaf.node.lease_remaining", ObserveLease, "s",
            "Seconds left on the write lease the monitor last granted the node (0 once expired)");
        meter.CreateObservableGauge("pgaf.group.writable_nodes", ObserveWritable,
            description: "Nodes whose keeper, still reporting, last reported a writable state with PostgreSQL running");
        meter.CreateObservableGauge("pgaf.group.sync_standbys_required", () => PerGroup(g => g.Settings.NumberSyncStandbys),
            description: "number_sync_standbys of the formation");
        meter.CreateObservableGauge("pgaf.group.sync_standbys_ready", () => PerGroup(g => g.Nodes.Count(IsSyncReady)),
            description: "Standbys in secondary, in the replication quorum, streaming and running");
        meter.CreateObservableGauge("pgaf.group.automatic_failover", () => PerGroup(g => g.Settings.AutomaticFailover ? 1 : 0),
            description: "1 while automatic failover is enabled for the formation");
    }

    public void ObserveGroups(Func<IEnumerable<LoadedGroup>> groups) => _groups = groups;

    private static bool IsWriting(MonitorNode n) => States.IsWritable(n.ReportedState) && n.PgIsRunning;

    /// <summary>
    /// A dead primary's last report says "writable" for ever: only a keeper still reporting counts, so that
    /// PgafPrimaryMissing fires when a crashed primary is not replaced.
    /// </summary>
    private IEnumerable<Measurement<double>> ObserveWritable()
    {
        var now = _time.GetUtcNow();
        return PerGroup(g => g.Nodes.Count(n => IsWriting(n) && HealthPredicates.IsReporting(n, _options, now)));
    }

    private static bool IsSyncReady(MonitorNode n) =>
        n.ReportedState == NodeState.Secondary && n.ReplicationQuorum && n.ReportedStreaming && n.PgIsRunning;

    private static bool IsStandby(MonitorNode n) => States.IsStreaming(n.GoalState) && States.IsStreaming(n.ReportedState);

    private IEnumerable<Measurement<double>> ObserveStreaming() =>
        PerNode(n => n.ReportedStreaming ? 1 : 0, include: IsStandby);

    private IEnumerable<Measurement<double>> ObserveLag()
    {
        foreach (var group in _groups())
        {
            var primaryLsn = group.State.Nodes.Where(IsWriting).Select(n => n.Lsn).DefaultIfEmpty(0UL).Max();
            if (primaryLsn == 0) continue;
            foreach (var node in group.State.Nodes.Where(IsStandby))
            {
                var lag = primaryLsn > node.Lsn ? primaryLsn - node.Lsn : 0;
                yield return new Measurement<double>(lag, NodeTags(group.State, node));
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveReportAge()
    {
        var now = _time.GetUtcNow();
        return PerNode(n => Math.Max(0, (now - n.LastReportAt!.Value).TotalSeconds), include: n => n.LastReportAt is not null);
    }

    private IEnumerable<Measurement<double>> ObserveLease()
    {
        var now = _time.GetUtcNow();
        return PerNode(n => Math.Max(0, (n.LeaseExpiresAt!.Value - now).TotalSeconds), include: n => n.LeaseExpiresAt is not null);
    }

    private IEnumerable<Measurement<double>> PerNode(
        Func<MonitorNode, double> value,
        Func<MonitorNode, KeyValuePair<string, object?>[]>? extra = null,
        Func<MonitorNode, bool>? include = null)
    {
        foreach (var group in _groups())
        {
            foreach (var node in group.State.Nodes)
            {
                if (include is not null && !include(node)) continue;
                var tags = NodeTags(group.State, node);
                yield return new Measurement<double>(value(node), extra is null ? tags : [.. tags, .. extra(node)]);
            }
        }
    }

    private IEnumerable<Measurement<double>> PerGroup(Func<GroupState, double> value) =>
        _groups().Select(g => new Measurement<double>(value(g.State), GroupTags(g.State.Settings)));

    private static KeyValuePair<string, object?>[] GroupTags(GroupSettings s) =>
        [new("formation", s.Formation), new("group", s.GroupId)];

    private static KeyValuePair<string, object?>[] NodeTags(GroupState g, MonitorNode n) =>
        [.. GroupTags(g.Settings), new("node", n.Name), new("node_id", n.NodeId)];

    /// <summary>The state as operators write it (snake_case, as in `pgaf show state`).</summary>
    private static string Name(NodeState state) => NodeStateNames.Of(state);
}
