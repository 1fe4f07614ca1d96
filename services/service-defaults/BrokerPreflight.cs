using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PgAutoFailover.Contracts;
using RabbitMQ.Client;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// One connection to the broker as the service starts, beside MassTransit's own (it does not delay the start): when the
/// broker refuses the user or the virtual host, the service stops with that one line and exit 77 or 78
/// (docs/operations.md#when-a-service-cannot-start). MassTransit alone retries a refused password for ever, logging
/// "None of the specified endpoints were reachable" every few seconds. An unreachable broker is left to MassTransit's
/// reconnection: a broker that starts later or restarts is waited for, not a reason to stop.
/// </summary>
public sealed partial class BrokerPreflight(BusOptions options, StartFailure failure, ILogger<BrokerPreflight> logger) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _check = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _check = CheckAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _check.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            await using var connection = await BrokerConnections.OpenAsync(options, "pgaf start-up check", recover: false, limit.Token);
            await connection.CloseAsync(limit.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            if (BrokerRefusal.Classify(e) is { } refused) failure.Stop(refused.ExitCode, refused.Reason);
            else LogNotYet(logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Broker not reachable at start ({Error}): MassTransit keeps trying")]
    private static partial void LogNotYet(ILogger logger, string error);
}
