namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>Runs the <see cref="ProbeScheduler"/> for the life of the host.</summary>
public sealed class ProbeService(ProbeScheduler scheduler) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => scheduler.RunAsync(stoppingToken);
}
