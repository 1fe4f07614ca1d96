using PgAutoFailover.Contracts;
using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Before the bus starts consuming: the store's schema, the default formation, and every group loaded
/// from its stream. Waits for the store to answer (it may start after us) and gives up with one clear
/// error after <see cref="StoreWaitLimit"/>.
/// </summary>
public sealed partial class MonitorStartup(
    NodeDirectory nodes, FormationDirectory formations, GroupCoordinator groups, MonitorServiceOptions options,
    MonitorMetrics metrics, NodeMetrics nodeMetrics, PartitionOwner partitions, IConfiguration configuration, StartFailure failure, ILogger<MonitorStartup> logger) : IHostedService
{
    private static readonly TimeSpan StoreWaitLimit = TimeSpan.FromMinutes(2);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (configuration.GetConnectionString("MonitorStore") is { } store && !new Npgsql.NpgsqlConnectionStringBuilder(store).Pooling)
        {
            // Measured: without pooling every decision opens a PostgreSQL connection, and 1,000 nodes drop to ~150 reports/s.
            Log.StorePoolingOff(logger);
        }
        var deadline = DateTime.UtcNow + StoreWaitLimit;
        for (var delay = TimeSpan.FromMilliseconds(250); ; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks)))
        {
            try
            {
                await nodes.EnsureSchemaAsync(cancellationToken);
                break;
            }
            catch (Npgsql.PostgresException e) when (Refusal(e) is { } refused)
            {
                // docs/operations.md#when-a-service-cannot-start: no retry mends a password or a database name.
                failure.Stop(refused.ExitCode, refused.Reason);
                throw new OperationCanceledException(refused.Reason, e);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or System.Net.Sockets.SocketException && DateTime.UtcNow < deadline)
            {
                Log.StoreNotReachable(logger, e.Message, delay);
                await Task.Delay(delay, cancellationToken);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or System.Net.Sockets.SocketException)
            {
                failure.Stop(ServiceExitCodes.Failure, $"the monitor store did not answer within {StoreWaitLimit.TotalMinutes:0} minutes: {e.Message}");
                throw new OperationCanceledException(e.Message, e);
            }
        }

        if (await formations.CreateAsync(options.DefaultFormation, "postgres", 0, cancellationToken))
        {
            Log.FormationCreated(logger, options.DefaultFormation);
        }
        await groups.LoadAllAsync(cancellationToken);
        // The gauges of the groups this instance holds: the others' copies here are as old as the last message this
        // instance decided for them (their report ages would only grow), and their holder exports them.
        metrics.ObserveGroups(() => groups.Current.Where(g => partitions.Holds(g.Key)));
        nodeMetrics.ObserveGroups(() => groups.Current.Where(g => partitions.Holds(g.Key)));
        Log.MonitorReady(logger, groups.Current.Count());
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The store refusing the monitor's login or naming a database it does not have, or null.</summary>
    private static (int ExitCode, string Reason)? Refusal(Npgsql.PostgresException e) => e.SqlState switch
    {
        Npgsql.PostgresErrorCodes.InvalidPassword or Npgsql.PostgresErrorCodes.InvalidAuthorizationSpecification =>
            (ServiceExitCodes.Refused, $"the monitor store refused the login: {e.MessageText}"),
        Npgsql.PostgresErrorCodes.InvalidCatalogName => (ServiceExitCodes.BadSettings, $"the monitor store says: {e.MessageText}"),
        _ => null,
    };

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "ConnectionStrings:MonitorStore has Pooling=false: every decision opens a new store connection; remove it for anything but a test")]
        public static partial void StorePoolingOff(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Monitor store not reachable yet ({Error}); retrying in {Delay}")]
        public static partial void StoreNotReachable(ILogger logger, string error, TimeSpan delay);

        [LoggerMessage(Level = LogLevel.Information, Message = "Created formation {Formation}")]
        public static partial void FormationCreated(ILogger logger, string formation);

        [LoggerMessage(Level = LogLevel.Information, Message = "Monitor ready with {Groups} group(s)")]
        public static partial void MonitorReady(ILogger logger, int groups);
    }
}
