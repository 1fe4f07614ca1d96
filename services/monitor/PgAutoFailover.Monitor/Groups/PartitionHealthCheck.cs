using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Degraded while this instance cannot renew its partitions (the store refuses or is away): it then holds none it can
/// count on, and keepers' reports for its share wait in their queues until another instance takes them
/// (docs/architecture.md#groups-spread-over-monitors). Before the first renewal, one lease is allowed for the start.
/// </summary>
public sealed class PartitionHealthCheck(PartitionOwner partitions, MonitorServiceOptions options, TimeProvider time) : IHealthCheck
{
    private readonly DateTimeOffset _created = time.GetUtcNow();

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var since = partitions.LastRenewedAt ?? _created;
        if (now - since <= options.PartitionLease)
        {
            return Task.FromResult(HealthCheckResult.Healthy($"holding partitions {string.Join(",", partitions.Held)}"));
        }
        return Task.FromResult(HealthCheckResult.Degraded(
            $"partitions not renewed for {(now - since).TotalSeconds:F0} s: {partitions.LastProblem ?? "no renewal yet"}"));
    }
}
