using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Loop;
using PgAutoFailover.Keeper.Monitor;
using PgAutoFailover.Keeper.Postgres;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Keeper;

public static class KeeperService
{
    public static readonly ServiceTelemetry Telemetry = new("PgAutoFailover.Keeper");

    /// <summary>The keeper's services: options from the "Keeper" section, the bus (request clients), PostgreSQL control and the loop.</summary>
    public static WebApplicationBuilder AddKeeper(this WebApplicationBuilder builder)
    {
        var options = new KeeperOptions();
        builder.Configuration.GetSection(KeeperOptions.Section).Bind(options);
        options.Checked();
        options.PgData = Path.GetFullPath(options.PgData).TrimEnd('/');
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new OsCommand(options.OsUser));
        builder.Services.TryAddSingleton(_ => PgBinaries.Resolve(options.PgBinDir));
        builder.Services.AddSingleton(sp => new PostgresServer(options, sp.GetRequiredService<PgBinaries>(), sp.GetRequiredService<OsCommand>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<PostgresServer>()));
        builder.Services.AddSingleton<PgSql>();
        builder.Services.AddSingleton<Secrets>();
        builder.Services.AddSingleton<Core.StepProgress>();
        builder.Services.AddSingleton<ServerAdoption>();
        builder.Services.AddSingleton<HostAddressBook>();
        builder.Services.AddSingleton<Actions.PgSettings>();
        builder.Services.AddSingleton<Actions.HbaRules>();
        builder.Services.AddSingleton<Actions.StandbySetup>();
        builder.Services.AddSingleton<Actions.PrimaryActions>();
        builder.Services.AddSingleton<Actions.CloneActions>();
        builder.Services.AddSingleton<Actions.StandbyActions>();
        builder.Services.AddSingleton<Actions.CurrentStateCheck>();
        builder.Services.AddSingleton<TransitionRunner>();
        builder.Services.AddSingleton<MonitorClient>();
        builder.Services.AddSingleton<KeeperExit>();
        // The bus first, started before the loop sends its first report.
        builder.AddPgAutoFailoverBus(BrokerNames.Keeper, bus =>
        {
            bus.AddRequestClient<RegisterNode>();
            bus.AddRequestClient<ReportNodeState>();
            bus.AddRequestClient<SetCandidatePriority>();
            bus.AddRequestClient<SetReplicationQuorum>();
            bus.AddRequestClient<UpdateNodeMetadata>();
        });
        builder.Services.Configure<MassTransit.MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StartTimeout = TimeSpan.FromSeconds(60);
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        builder.Services.AddSingleton<KeeperSession>();
        builder.Services.AddSingleton<NodeRegistration>();
        builder.Services.AddSingleton<NodeIdentity>();
        builder.Services.AddSingleton<GoalReceiver>();
        builder.Services.AddSingleton<Reporter>();
        builder.Services.AddSingleton<Actor>();
        builder.Services.AddSingleton<FenceWatch>();
        builder.Services.AddSingleton<ConfigReloader>();
        builder.Services.AddSingleton<KeeperLoop>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KeeperLoop>());
        builder.Services.AddHostedService<HostAddressRefresher>();
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(90));
        builder.Services.AddHealthChecks().AddCheck<KeeperHealthCheck>("keeper");
        return builder;
    }
}

/// <summary>/health: unhealthy once the keeper stopped on a fatal error, degraded while a transition keeps failing.</summary>
public sealed class KeeperHealthCheck(KeeperLoop loop, KeeperExit exit) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (exit.Code != 0) return Task.FromResult(HealthCheckResult.Unhealthy(exit.Error));
        var state = loop.State;
        var description = $"node {state.NodeId}: {Core.KeeperStates.Name(state.CurrentState)} (goal {Core.KeeperStates.Name(state.AssignedState)})";
        return Task.FromResult(state.LastError is { } error
            ? HealthCheckResult.Degraded($"{description}: {error}")
            : HealthCheckResult.Healthy(description));
    }
}
