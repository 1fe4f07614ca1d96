using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Monitor;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>
/// keeper create's first step (services/keeper/README.md step 1): checks that PGDATA can be used (empty, or a data
/// directory whose running server can be adopted), registers the node with the monitor and writes the state file and
/// the settings file.
/// </summary>
public sealed partial class NodeRegistration(KeeperOptions options, PostgresServer server, MonitorClient monitor, ILogger<NodeRegistration> logger)
{
    /// <summary>Registers the node (retrying while the monitor does not answer) and returns its first state, persisted.</summary>
    public async Task<KeeperState> RegisterAsync(KeeperSession session, CancellationToken ct)
    {
        var files = server.Files;
        if (!files.IsEmptyOrMissing && !files.IsDataDirectory)
        {
            throw new KeeperException($"{options.PgData} is not empty and is not a PostgreSQL data directory: refusing to use it");
        }
        if (server.IsPostmasterAlive() && AdoptionProblem() is { } cannotAdopt) throw new KeeperException(cannotAdopt);
        if (await ServerPreflight.CannotRunHereAsync(server, options, ct) is { } problem) throw new KeeperException(problem);
        var sysid = files.IsDataDirectory ? await server.SystemIdentifierAsync(ct) : null;
        server.EnsureStateDirectory();
        var request = new RegisterNode(options.Formation, options.GroupId, options.Name, options.Host, options.Port, options.DatabaseName,
            sysid, options.CandidatePriority, options.ReplicationQuorum, options.NodeId, NodeState.Init);
        Log.Registering(logger, options.Host, options.Port, options.Formation);
        NodeRegistered registered;
        while (true)
        {
            try
            {
                registered = await monitor.RegisterAsync(request, ct);
                break;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is MassTransit.RequestTimeoutException or OperationCanceledException)
            {
                Log.RegistrationUnanswered(logger);
            }
        }
        var state = new KeeperState
        {
            Formation = registered.Node.Formation, NodeId = registered.Node.NodeId, GroupId = registered.Node.GroupId,
            NodeName = registered.Node.NodeName, Host = registered.Node.Host, Port = registered.Node.Port,
            CurrentState = NodeState.Init, AssignedState = registered.GoalState,
            SystemIdentifier = sysid, PgDataExistedAtCreate = sysid is not null,
        };
        session.Save(state);
        File.WriteAllText(options.SettingsFile, System.Text.Json.JsonSerializer.Serialize(new { Keeper = options },
            new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        Log.Registered(logger, state.NodeId, state.NodeName, state.GroupId, KeeperStates.Name(state.AssignedState));
        return state;
    }

    /// <summary>What keeps the keeper from taking over the PostgreSQL that runs on PGDATA (docs/operations.md#adopting-a-running-database), or null.</summary>
    private string? AdoptionProblem()
    {
        var running = PostmasterPidFile.Read(options.PgData);
        if (running?.Port is { } port && port != options.Port)
            return $"PostgreSQL already runs on {options.PgData} with port {port}, not {options.Port}: give --port {port} to adopt it as it runs";
        if (running is { SocketDirectory: null })
            return $"PostgreSQL already runs on {options.PgData} with no Unix socket (unix_socket_directories is empty): the keeper manages it over one";
        if (!File.Exists(Path.Combine(options.PgData, "postgresql.conf")))
            return $"PostgreSQL already runs on {options.PgData} with its configuration files elsewhere (config_file outside PGDATA, as Debian's clusters have): the keeper keeps them in PGDATA; move them there and restart it, then adopt it";
        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Registering {Host}:{Port} in formation {Formation}")]
        public static partial void Registering(ILogger logger, string host, int port, string formation);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The monitor did not answer the registration; retrying")]
        public static partial void RegistrationUnanswered(ILogger logger);

        [LoggerMessage(Level = LogLevel.Information, Message = "Registered as node {NodeId} \"{Name}\" in group {Group}; first goal {Goal}")]
        public static partial void Registered(ILogger logger, long nodeId, string name, int group, string goal);
    }
}
