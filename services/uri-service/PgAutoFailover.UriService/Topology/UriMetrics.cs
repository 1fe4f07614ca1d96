using System.Diagnostics.Metrics;

namespace PgAutoFailover.UriService.Topology;

/// <summary>The uri-service's instruments, on the Meter named as the service's telemetry name.</summary>
public sealed class UriMetrics(Meter meter)
{
    /// <summary>Topology snapshots received, by outcome (applied, duplicate, stale).</summary>
    public Counter<long> Snapshots { get; } = meter.CreateCounter<long>("pgaf.uri.topology_snapshots", "{snapshot}", "Topology snapshots received, by outcome");

    /// <summary>ConnectionStringChanged events published.</summary>
    public Counter<long> ConnectionStringChanges { get; } = meter.CreateCounter<long>("pgaf.uri.connection_string_changes", "{event}", "ConnectionStringChanged events published");
}
