using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PgAutoFailover.Contracts;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Testing.EndToEnd;

/// <summary>
/// A whole deployment as REAL processes on loopback, wired as cluster.sh wires it: a PostgreSQL store
/// for the monitor, the monitor, the health-checker, the uri-service, and data nodes (keeper processes
/// with their PostgreSQL), all on the given broker / virtual host. Default product timings throughout;
/// only test-infrastructure settings differ (trust authentication, fsync off, no-sync initdb/basebackup).
/// Logs go to files under <see cref="BaseDirectory"/>; <see cref="Logs"/> gathers their tails for
/// assertion messages. Dispose kills everything and removes the folder (PGAF_KEEP_CLUSTERS=1 keeps it).
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    public const string Formation = "default";
    private readonly List<DataNode> _nodes = [];
    private readonly IBusControl _bus;
    private readonly ServiceProvider _busServices;
    private PgCluster? _store;
    private BrokerUsers? _brokerUsers;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private ProcessCluster(string baseDirectory, Uri amqp, IBusControl bus, ServiceProvider busServices)
    {
        BaseDirectory = baseDirectory;
        Amqp = amqp;
        _bus = bus;
        _busServices = busServices;
    }

    public string BaseDirectory { get; }
    public Uri Amqp { get; }

    /// <summary>The broker URL <paramref name="service"/>'s own broker user connects with (a host list on a broker cluster).</summary>
    public string BrokerUrl(string service) => _brokerUsers!.UrlText(service);
    public ServiceProcess Monitor => _monitors[0];
    public ServiceProcess HealthChecker { get; private set; } = null!;
    public ServiceProcess UriService { get; private set; } = null!;
    public int MonitorHttpPort { get; private set; }
    public int UriServiceHttpPort { get; private set; }
    public int HealthCheckerHttpPort { get; private set; }
    public IReadOnlyList<DataNode> Nodes => _nodes;
    public DataNode Node(string name) => _nodes.Single(n => n.Name == name);
    private IReadOnlyDictionary<string, string>? _monitorSettings;
    private IReadOnlyDictionary<string, string>? _environment;
    private bool _storePair;
    private int _monitorCount = 1;
    private readonly List<ServiceProcess> _monitors = [];

    /// <summary>Every monitor process; <see cref="Monitor"/> is the first.</summary>
    public IReadOnlyList<ServiceProcess> Monitors => _monitors;

    /// <summary>The monitor's store (its primary, unless a test promoted <see cref="StoreStandby"/>).</summary>
    public PgCluster Store => _store!;

    /// <summary>The store's synchronous standby, when started with storePair.</summary>
    public PgCluster? StoreStandby { get; private set; }
    public bool KeepOnDispose { get; set; } = Environment.GetEnvironmentVariable("PGAF_KEEP_CLUSTERS") == "1";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Store, monitor, health-checker and uri-service, each healthy; no data node yet.</summary>
    /// <param name="environment">Variables every process of the cluster gets (e.g. where to export telemetry).</param>
    /// <param name="storePair">The monitor's store as a primary and a synchronous standby, named together in a multi-host
    /// connection string (<see cref="StoreStandby"/>).</param>
    /// <param name="monitors">How many monitor processes share the work (<see cref="Monitors"/>).</param>
    /// <param name="brokerHosts">A broker cluster's nodes (host:port,...; <paramref name="amqp"/> is the first): every
    /// process, and the test's own bus, is given them all (docs/operations.md#a-broker-cluster).</param>
    public static async Task<ProcessCluster> StartAsync(Uri amqp, IReadOnlyDictionary<string, string>? monitorSettings = null,
        IReadOnlyDictionary<string, string>? environment = null, bool storePair = false, int monitors = 1, string? brokerHosts = null)
    {
        var baseDirectory = Path.Combine(Path.GetTempPath(), "pgaf-test", $"e2e-{Guid.NewGuid():N}"[..14]);
        Directory.CreateDirectory(baseDirectory);
        if (ProcessRunner.IsRoot)
        {
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("chown", ["postgres:postgres", baseDirectory], TimeSpan.FromSeconds(10)), "chown");
        }
        var busServices = new ServiceCollection().AddLogging().AddSingleton(RefusedPublishRecovery.ForBus);
        busServices.AddMassTransit(x => x.UsingRabbitMq((context, rabbit) =>
        {
            rabbit.Host(amqp, host =>
            {
                if (brokerHosts is not null) host.UseCluster(c => { foreach (var node in brokerHosts.Split(',')) c.Node(node); });
            });
            // A reply queue the monitor's broker user may answer (docs/operations.md#broker-users).
            rabbit.OverrideDefaultBusEndpointQueueName(BrokerNames.BusEndpoint("test"));
            // As every service's bus: a channel RabbitMQ 3.10 keeps refusing after a quorum queue's leader election is
            // replaced (docs/operations.md#a-broker-cluster), or the test's state requests could stay refused.
            rabbit.UseRefusedPublishRecovery(context);
        }));
        var provider = busServices.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        var cluster = new ProcessCluster(baseDirectory, amqp, bus, provider) { _monitorSettings = monitorSettings, _environment = environment, _storePair = storePair, _monitorCount = monitors };
        try
        {
            // As cluster.sh and compose deploy: each service with a broker user of its own (docs/operations.md#broker-users).
            cluster._brokerUsers = await BrokerUsers.CreateAsync(amqp, brokerHosts);
            await cluster.StartServicesAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>The settings every process shares, and <paramref name="service"/>'s own broker user (a <see cref="BrokerUsers.Services"/> name).</summary>
    private Dictionary<string, string> CommonEnvironment(int httpPort, string service)
    {
        var environment = BaseEnvironment(httpPort, service);
        foreach (var (key, value) in _environment ?? new Dictionary<string, string>()) environment[key] = value;
        return environment;
    }

    private Dictionary<string, string> BaseEnvironment(int httpPort, string service) => new()
    {
        ["RABBITMQ_URL"] = _brokerUsers!.UrlText(service),
        ["Urls"] = $"http://127.0.0.1:{httpPort}",
        ["Logging__LogLevel__Default"] = "Information",
        ["Logging__LogLevel__Microsoft"] = "Warning",
        ["Logging__LogLevel__MassTransit"] = "Warning",
        ["Logging__LogLevel__Marten"] = "Warning",
        ["Logging__Console__FormatterName"] = "simple",
        ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
        ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        ["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true",
    };

    private async Task StartServicesAsync()
    {
        _store = await PgCluster.CreateAsync();
        await _store.ExecuteAsync("CREATE DATABASE pg_auto_failover");

        var monitorEnv = new Dictionary<string, string>();
        monitorEnv["ConnectionStrings__MonitorStore"] = $"Host=127.0.0.1;Port={_store.Port};Database=pg_auto_failover;Username=postgres";
        if (_storePair)
        {
            StoreStandby = await PgCluster.CreateStandbyAsync(_store, synchronous: true);
            // As docs/operations.md#a-store-that-fails-over tells an operator: both hosts, and only the writable one.
            monitorEnv["ConnectionStrings__MonitorStore"] = $"Host=127.0.0.1:{_store.Port},127.0.0.1:{StoreStandby.Port};Database=pg_auto_failover;"
                + "Username=postgres;Target Session Attributes=read-write";
        }
        foreach (var (key, value) in _monitorSettings ?? new Dictionary<string, string>()) monitorEnv[key] = value;
        var monitorPorts = new List<int>();
        for (var i = 1; i <= _monitorCount; i++)
        {
            var port = Ports.Free();
            monitorPorts.Add(port);
            var env = CommonEnvironment(port, "monitor");
            foreach (var (key, value) in monitorEnv) env[key] = value;
            var name = _monitorCount == 1 ? "monitor" : $"monitor{i}";
            var monitor = new ServiceProcess(name, "PgAutoFailover.Monitor", Path.Combine(BaseDirectory, $"{name}.log"), env);
            _monitors.Add(monitor);
            monitor.Start(MonitorDll);
        }
        MonitorHttpPort = monitorPorts[0];
        _monitorHttpPorts = monitorPorts;

        var checkerPort = HealthCheckerHttpPort = Ports.Free();
        var checkerEnv = CommonEnvironment(checkerPort, "health-checker");
        checkerEnv["HealthChecker__Password"] = "";
        HealthChecker = new ServiceProcess("health-checker", "PgAutoFailover.HealthChecker", Path.Combine(BaseDirectory, "health-checker.log"), checkerEnv);
        HealthChecker.Start(HealthCheckerDll);

        UriServiceHttpPort = Ports.Free();
        UriService = new ServiceProcess("uri-service", "PgAutoFailover.UriService", Path.Combine(BaseDirectory, "uri-service.log"), CommonEnvironment(UriServiceHttpPort, "uri-service"));
        UriService.Start(UriServiceDll);

        for (var i = 0; i < _monitors.Count; i++) await _monitors[i].WaitHealthyAsync(monitorPorts[i], StartTimeout);
        await HealthChecker.WaitHealthyAsync(checkerPort, StartTimeout);
        await UriService.WaitHealthyAsync(UriServiceHttpPort, StartTimeout);
        await Eventually.TrueAsync(async () => await TryStateAsync() is not null, "the monitor to answer GetFormationState", StartTimeout);
    }

    private static string MonitorDll => ServiceProcess.Dll("monitor", "PgAutoFailover.Monitor");
    private static string HealthCheckerDll => ServiceProcess.Dll("health-checker", "PgAutoFailover.HealthChecker");
    private static string UriServiceDll => ServiceProcess.Dll("uri-service", "PgAutoFailover.UriService");

    private IReadOnlyList<int> _monitorHttpPorts = [];

    public void StartMonitor(int index = 0) => _monitors[index].Start(MonitorDll);
    public Task WaitMonitorHealthyAsync(int index = 0) => _monitors[index].WaitHealthyAsync(_monitorHttpPorts[index], StartTimeout);

    /// <summary>
    /// Which monitor holds the partition of group <paramref name="group"/> of the formation now
    /// (docs/architecture.md#groups-spread-over-monitors): the store's partition table names the holder by host and
    /// process id. Waits while nobody holds it (the holder was just killed, or the store is failing over). Asks
    /// <paramref name="store"/>, the store's promoted standby after its failover, else the store.
    /// </summary>
    public async Task<int> PartitionHolderAsync(int group = 0, PgCluster? store = null)
    {
        var partition = Contracts.MonitorPartitions.Of(Formation, group);
        var holder = -1;
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                var owner = await (store ?? Store).ScalarAsync<string?>(
                    $"SELECT owner FROM pgaf_monitor.partition_owner WHERE partition = {partition} AND expires_at > now()", "pg_auto_failover");
                holder = owner is null ? -1 : _monitors.FindIndex(p => p.Running && owner.Contains($"-{p.Pid}-", StringComparison.Ordinal));
            }
            catch (Npgsql.NpgsqlException)
            {
                holder = -1;
            }
            return holder >= 0;
        }, $"a live monitor holding partition {partition}", TimeSpan.FromSeconds(30));
        return holder;
    }

    /// <summary>Starts the health-checker again (after a crash), as its supervisor would, and waits until it is healthy.</summary>
    public async Task RestartHealthCheckerAsync()
    {
        HealthChecker.Start(HealthCheckerDll);
        await HealthChecker.WaitHealthyAsync(HealthCheckerHttpPort, StartTimeout);
    }

    /// <summary>Starts the uri-service again (after a crash), as its supervisor would, and waits until it is healthy.</summary>
    public async Task RestartUriServiceAsync()
    {
        UriService.Start(UriServiceDll);
        await UriService.WaitHealthyAsync(UriServiceHttpPort, StartTimeout);
    }

    /// <summary>
    /// Starts a keeper (create --run) and waits until the monitor lists the node; with <paramref name="adopt"/>, on that
    /// running server's data directory and port.
    /// </summary>
    public async Task<DataNode> AddNodeAsync(string name, PgCluster? adopt = null)
    {
        var port = adopt?.Port ?? Ports.Free();
        var httpPort = Ports.Free();
        var env = KeeperEnvironment(httpPort);
        var node = new DataNode(name, adopt?.DataDirectory ?? Path.Combine(BaseDirectory, name), port, httpPort,
            new ServiceProcess(name, "PgAutoFailover.Keeper", Path.Combine(BaseDirectory, $"{name}.keeper.log"), env));
        _nodes.Add(node);
        node.StartKeeper();
        await WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == name), $"{name} to register");
        return node;
    }

    /// <summary>
    /// Starts a keeper inside node <paramref name="labNode"/>'s namespace of <paramref name="lab"/>: PostgreSQL listens
    /// on that node's address only and the node registers with it; the broker is reached at the lab's host address.
    /// The first node's pg_hba also admits the test's own connections from the lab network (as postgres, trust, as on
    /// loopback); standbys copy it with the rest of the data directory.
    /// </summary>
    /// <remarks>
    /// With <paramref name="diskMegabytes"/> the node's PGDATA and keeper state live on a tmpfs of that size mounted for
    /// it (<see cref="DataNode.FillDiskAsync"/>), unmounted when the node is disposed.
    /// </remarks>
    public async Task<DataNode> AddNodeAsync(string name, Network.NetworkLab lab, int labNode, int? diskMegabytes = null)
    {
        string? disk = null;
        if (diskMegabytes is { } size)
        {
            disk = Path.Combine(BaseDirectory, name + ".disk");
            Directory.CreateDirectory(disk);
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("mount",
                ["-t", "tmpfs", "-o", $"size={size}m,mode=0755", "tmpfs", disk], TimeSpan.FromSeconds(30)), "mount tmpfs");
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("chown", ["postgres:postgres", disk], TimeSpan.FromSeconds(10)), "chown");
        }
        var port = Ports.Free();
        var httpPort = Ports.Free();
        var env = KeeperEnvironment(httpPort);
        env["RABBITMQ_URL"] = env["RABBITMQ_URL"].Replace("@127.0.0.1:", $"@{lab.HostAddress}:", StringComparison.Ordinal);
        env["Keeper__ListenAddresses"] = lab.Address(labNode);
        env["Keeper__GroupHosts__0"] = lab.Subnet;
        var node = new DataNode(name, Path.Combine(disk ?? BaseDirectory, name), port, httpPort,
            new ServiceProcess(name, "PgAutoFailover.Keeper", Path.Combine(BaseDirectory, $"{name}.keeper.log"), env) { Namespace = lab.Namespace(labNode) },
            lab.Address(labNode)) { Disk = disk };
        _nodes.Add(node);
        var first = _nodes.Count == 1;
        node.StartKeeper();
        await WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == name), $"{name} to register");
        if (first)
        {
            var hba = Path.Combine(node.PgData, "pg_hba.conf");
            await Eventually.TrueAsync(() => Task.FromResult(File.Exists(hba) && node.PostmasterPid is not null), $"{name}'s PostgreSQL to start", StartTimeout);
            await File.AppendAllTextAsync(hba, $"host all postgres {lab.Subnet} trust\n");
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("runuser",
                ["-u", "postgres", "--", Path.Combine(PgCluster.BinDirectory, "pg_ctl"), "reload", "-D", node.PgData], TimeSpan.FromSeconds(30)), "pg_ctl reload");
        }
        return node;
    }

    private Dictionary<string, string> KeeperEnvironment(int httpPort)
    {
        var env = CommonEnvironment(httpPort, "keeper");
        env["Keeper__AuthMethod"] = "trust";
        env["Keeper__NoSync"] = "true";
        env["Keeper__ExtraSettings__0"] = "fsync=off";
        return env;
    }

    /// <summary>Nodes added one after the other (the first becomes the primary), then waits for the group to converge.</summary>
    public async Task AddNodesAndConvergeAsync(params string[] names)
    {
        foreach (var name in names) await AddNodeAsync(name);
        await WaitConvergedAsync(names[0], TimeSpan.FromSeconds(240));
    }

    // ---- the monitor, over the bus ----

    public async Task<FormationState?> TryStateAsync()
    {
        try
        {
            // Bounded as the services bound theirs: a request sent while a broker node was killed was seen never to end,
            // and this wait would have been the test's last.
            var response = await _bus.CreateRequestClient<GetFormationState>()
                .GetResponseWithin<GetFormationState, FormationState, OperatorCommandRefused>(new GetFormationState(Formation), TimeSpan.FromSeconds(3), CancellationToken.None);
            return response.Is(out Response<FormationState>? state) ? state!.Message : null;
        }
        catch (RequestTimeoutException) { return null; }
        catch (RequestFaultException) { return null; }
        catch (MassTransitException) { return null; }
        catch (OperationCanceledException) { return null; }
    }

    public async Task<FormationState> StateAsync() =>
        await Eventually.ValueAsync(TryStateAsync, "the monitor to answer GetFormationState");

    public async Task<FormationState> WaitForAsync(Func<FormationState, bool> condition, string what, TimeSpan? timeout = null)
    {
        FormationState? last = null;
        try
        {
            return await Eventually.ValueAsync(async () =>
            {
                var state = await TryStateAsync();
                if (state is not null) last = state;
                return state is not null && condition(state) ? state : null;
            }, what, timeout ?? TimeSpan.FromSeconds(120));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last state:\n{Describe(last)}", e);
        }
    }

    public static string Describe(FormationState? state) => state is null ? "(none)" : string.Join('\n', state.Nodes.Select(n =>
        $"  {n.Node.NodeName} id={n.Node.NodeId} :{n.Node.Port} reported={n.ReportedState} goal={n.GoalState} health={n.Health} lsn={n.Lsn:X} running={n.PgIsRunning}"));

    public static NodeSnapshot? ConvergedPrimary(FormationState state) =>
        state.Nodes.SingleOrDefault(n => n.ReportedState == NodeState.Primary && n.GoalState == NodeState.Primary);

    /// <summary>One converged primary (the named node if given), every other node a converged secondary.</summary>
    public static bool Converged(FormationState state, string? primary = null, int? nodes = null) =>
        (nodes is null || state.Nodes.Count == nodes)
        && ConvergedPrimary(state) is { } p && (primary is null || p.Node.NodeName == primary)
        && state.Nodes.Where(n => n != p).All(n => n.ReportedState == NodeState.Secondary && n.GoalState == NodeState.Secondary);

    public Task<FormationState> WaitConvergedAsync(string? primary = null, TimeSpan? timeout = null) =>
        WaitForAsync(s => Converged(s, primary, _nodes.Count), primary is null ? "the group to converge" : $"the group to converge with {primary} as primary", timeout);

    public long NodeId(FormationState state, string name) => state.Nodes.Single(n => n.Node.NodeName == name).Node.NodeId;

    public async Task<string> OperatorAsync<TRequest>(TRequest request) where TRequest : class
    {
        var client = _bus.CreateRequestClient<TRequest>(RequestTimeout.After(s: 15));
        var response = await client.GetResponse<OperatorCommandSucceeded, OperatorCommandRefused>(request);
        if (response.Is(out Response<OperatorCommandRefused>? refused)) throw new InvalidOperationException($"monitor refused {typeof(TRequest).Name}: {refused!.Message.Reason}");
        return response.Is(out Response<OperatorCommandSucceeded>? ok) ? ok!.Message.Message : "";
    }

    /// <summary>
    /// The built <c>pgaf</c> run as the cluster's operator would run it: the operator's broker user, no read API (so
    /// every answer crosses the broker), a 30 s <c>--timeout</c> unless <paramref name="args"/> give one.
    /// </summary>
    public Task<ProcessRunner.Result> PgafAsync(params string[] args) =>
        ProcessRunner.RunAsync(Path.Combine(ServiceProcess.RepositoryRoot, "cli", "PgAutoFailover.Cli", "bin", ServiceProcess.Configuration, "net10.0", "pgaf"),
            args.Contains("--timeout") ? args : [.. args, "--timeout", "30"], TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["RABBITMQ_URL"] = BrokerUrl("operator"), ["PGAF_MONITOR"] = "http://127.0.0.1:1" });

    /// <summary>Any request on the cluster's bus, as a stranger with broker access could send it: the answer's message.</summary>
    public async Task<object> RequestAsync<TRequest, T1, T2>(TRequest request) where TRequest : class where T1 : class where T2 : class
    {
        var client = _bus.CreateRequestClient<TRequest>(RequestTimeout.After(s: 15));
        var response = await client.GetResponse<T1, T2>(request);
        if (response.Is(out Response<T1>? first)) return first!.Message;
        return response.Is(out Response<T2>? second) ? second!.Message : throw new InvalidOperationException("unexpected response");
    }

    // ---- the uri-service, over HTTP ----

    /// <summary>GET /formations/default/uri → the multi-host uri, once it names every node.</summary>
    public async Task<string> WaitUriAsync()
    {
        return await Eventually.ValueAsync(async () =>
        {
            try
            {
                var response = await _http.GetAsync($"http://127.0.0.1:{UriServiceHttpPort}/formations/{Formation}/uri");
                if (!response.IsSuccessStatusCode) return null;
                var json = await response.Content.ReadFromJsonAsync<JsonElement>();
                var uri = json.GetProperty("uri").GetString();
                return uri is not null && _nodes.All(n => uri.Contains($":{n.Port}")) ? uri : null;
            }
            catch (HttpRequestException) { return null; }
            catch (TaskCanceledException) { return null; }
        }, "the uri-service to name every node");
    }

    // ---- diagnostics ----

    public string Logs(int lines = 60)
    {
        var text = new StringBuilder();
        foreach (var service in _monitors.Concat([HealthChecker, UriService]))
        {
            if (service is null) continue;
            text.AppendLine($"---- {service.Name} (tail) ----").AppendLine(service.Tail(lines));
        }
        foreach (var node in _nodes) text.AppendLine(node.LogTail(lines));
        return text.ToString();
    }

    /// <summary>Runs a test body; on failure the state and every process's log tail go into the assertion message.</summary>
    public async Task WithLogsAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception e)
        {
            var state = await TryStateAsync();
            throw new Xunit.Sdk.XunitException(
                $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}\n==== formation state ====\n{Describe(state)}\n==== logs in {BaseDirectory} ====\n{Logs()}" +
                $"\n==== the failure again (a report that shows only the tail shows this) ====\n{e.GetType().Name}: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        foreach (var service in new[] { UriService, HealthChecker }.Concat(_monitors))
        {
            if (service is not null) await service.DisposeAsync();
        }
        try { await _bus.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(15)).Token); } catch (Exception) { /* broker may be gone */ }
        await _busServices.DisposeAsync();
        if (_brokerUsers is not null) await _brokerUsers.DisposeAsync();
        if (_store is not null)
        {
            _store.KeepOnDispose = KeepOnDispose;
            await _store.DisposeAsync();
        }
        if (StoreStandby is not null)
        {
            StoreStandby.KeepOnDispose = KeepOnDispose;
            await StoreStandby.DisposeAsync();
        }
        _http.Dispose();
        if (!KeepOnDispose)
        {
            try { Directory.Delete(BaseDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
