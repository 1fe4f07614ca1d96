using System.Diagnostics.Metrics;

namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>The checker's instruments, on the Meter named as the service's telemetry name.</summary>
public sealed class ProbeMetrics
{
    public const string DurationName = "pgaf.probe.duration";

    public ProbeMetrics(Meter meter)
    {
        Duration = meter.CreateHistogram<double>(DurationName, "s", "Duration of one probe (the last attempt), by outcome");
        Probes = meter.CreateCounter<long>("pgaf.probes", "{probe}", "Probes made, by outcome");
        Failures = meter.CreateCounter<long>("pgaf.probe.failures", "{probe}", "Probes that failed");
        Published = meter.CreateCounter<long>("pgaf.probe.published", "{message}", "NodeProbed messages published");
        Overruns = meter.CreateCounter<long>("pgaf.probe.overruns", "{period}", "Probe periods missed because the previous probe or the wait for a slot ran past them");
        StartLag = meter.CreateHistogram<double>("pgaf.probe.start_lag", "s", "Delay between a probe's due time and its start (timer and concurrency limit)");
    }

    public Histogram<double> Duration { get; }
    public Counter<long> Probes { get; }
    public Counter<long> Failures { get; }
    public Counter<long> Published { get; }
    public Counter<long> Overruns { get; }
    public Histogram<double> StartLag { get; }
}
