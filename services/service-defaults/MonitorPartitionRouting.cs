using MassTransit;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// Publishes keeper reports and probes with their group's partition as routing key, so the monitor's partition exchange
/// hands them to the one monitor holding that partition (docs/architecture.md#groups-spread-over-monitors). A message
/// published without it (a bus that did not call this) still arrives: the monitor routes unkeyed messages to partition 0.
/// </summary>
public static class MonitorPartitionRouting
{
    public static void UseMonitorPartitionRouting(this IBusFactoryConfigurator bus)
    {
        bus.Send<ReportNodeState>(s => s.UseRoutingKeyFormatter(c => MonitorPartitions.RoutingKey(c.Message.Formation, c.Message.GroupId)));
        bus.Send<NodeProbed>(s => s.UseRoutingKeyFormatter(c => MonitorPartitions.RoutingKey(c.Message.Node.Formation, c.Message.Node.GroupId)));
    }
}
