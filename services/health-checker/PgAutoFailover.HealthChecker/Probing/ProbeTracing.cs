using System.Diagnostics;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>Spans of the probe results the health-checker publishes; NodeProbed's headers carry them to the monitor.</summary>
public static class ProbeTracing
{
    public static readonly ActivitySource Source = new(HealthCheckerService.Telemetry.ServiceName);

    public static Activity? Start(NodeProbed result, DateTimeOffset probedAt)
    {
        var activity = Source.StartActivity("probe node", ActivityKind.Internal, parentContext: default, startTime: probedAt);
        if (activity is null) return null;
        activity.SetTag("pgaf.node_id", result.Node.NodeId);
        activity.SetTag("pgaf.node", $"{result.Node.Host}:{result.Node.Port}");
        activity.SetTag("pgaf.probe.succeeded", result.Succeeded);
        if (!result.Succeeded)
        {
            activity.SetTag("pgaf.probe.consecutive_failures", result.ConsecutiveFailures);
            activity.SetStatus(ActivityStatusCode.Error, result.Error);
        }
        return activity;
    }
}
