using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Loop;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Support;

/// <summary>
/// One data node under test: a folder owned by postgres, a free loopback port, and a keeper hosted
/// in the test process exactly as Program builds it (service defaults + AddKeeper), which can be
/// stopped and started again on the same data directory.
/// </summary>
public sealed class KeeperNode : IAsyncDisposable
{
    private ServiceHost? _host;
    private readonly Uri _amqp;

    private KeeperNode(string baseDirectory, string name, int port, Uri amqp, string passwordFile)
    {
        BaseDirectory = baseDirectory;
        Name = name;
        Port = port;
        _amqp = amqp;
        PasswordFile = passwordFile;
        Log = new FileLoggerProvider(Path.Combine(baseDirectory, $"{name}.keeper.log"));
    }

    public string BaseDirectory { get; }
    public string Name { get; }
    public int Port { get; }
    public string PasswordFile { get; }
    public string PgData => Settings.TryGetValue("Keeper:PgData", out var p) && p is not null ? p : Path.Combine(BaseDirectory, Name);
    public string StateDirectory => Path.Combine(BaseDirectory, Name) + ".keeper";
    public FileLoggerProvider Log { get; }
    public Dictionary<string, string?> Settings { get; } = [];
    public bool KeepOnDispose { get; set; } = Environment.GetEnvironmentVariable("PGAF_KEEP_CLUSTERS") == "1";

    /// <summary>A new node folder under <paramref name="group"/>'s base directory (shared password file).</summary>
    public static KeeperNode New(TestGroup group, string name, int? port = null) =>
        new(group.BaseDirectory, name, port ?? Ports.Free(), group.Amqp, Path.Combine(group.BaseDirectory, "replication.password"));

    public KeeperLoop Loop => _host?.Services.GetRequiredService<KeeperLoop>() ?? throw new InvalidOperationException("keeper not running");
    public KeeperExit Exit => _host?.Services.GetRequiredService<KeeperExit>() ?? throw new InvalidOperationException("keeper not running");
    public long NodeId => Loop.State.NodeId;
    public KeeperState? PersistedState => new StateStore(Path.Combine(StateDirectory, "keeper.state")).Load();

    public async Task StartKeeperAsync(bool stopPostgresOnExit = true)
    {
        var settings = new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = _amqp.ToString(),
            ["Keeper:PgData"] = PgData,
            ["Keeper:Port"] = Port.ToString(),
            ["Keeper:Host"] = "127.0.0.1",
            ["Keeper:Formation"] = FakeMonitor.Formation,
            ["Keeper:Name"] = Name,
            ["Keeper:ReplicationPasswordFile"] = PasswordFile,
            ["Keeper:NoSync"] = "true",
            ["Keeper:ExtraSettings:0"] = "fsync=off",
            ["Keeper:LoopPeriod"] = "00:00:00.500",
            ["Keeper:Create"] = "true",
            ["Keeper:StopPostgresOnExit"] = stopPostgresOnExit ? "true" : "false",
        };
        foreach (var (k, v) in Settings) settings[k] = v;
        _host = await ServiceHost.StartAsync(KeeperService.Telemetry, b => b.AddKeeper(), settings, b =>
        {
            b.Logging.ClearProviders(); // the keeper's log goes to its own file (and into failure messages), not the console
            b.Logging.SetMinimumLevel(LogLevel.Information);
            b.Logging.AddFilter("MassTransit", LogLevel.Warning);
            b.Logging.AddFilter("Microsoft", LogLevel.Warning);
            b.Logging.AddProvider(Log);
        });
    }

    /// <summary>Changes a setting of the running keeper's configuration, as an edited settings file would; SIGHUP is <see cref="KeeperLoop.ReloadAsync"/>.</summary>
    public void Configure(string key, string? value) =>
        (_host ?? throw new InvalidOperationException("keeper not running")).Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()[key] = value;

    /// <summary>A setting as the running keeper's configuration holds it now.</summary>
    public string? Configured(string key) =>
        (_host ?? throw new InvalidOperationException("keeper not running")).Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()[key];

    /// <summary>Waits until the keeper has registered and knows its node id.</summary>
    public async Task<long> WaitRegisteredAsync() =>
        (await Eventually.ValueAsync(() => Task.FromResult(PersistedState is { NodeId: > 0 } s ? s : null), $"{Name} to register")).NodeId;

    public async Task StopKeeperAsync()
    {
        if (_host is null) return;
        var host = _host;
        _host = null;
        // A keeper that does not stop is a defect to see, not a test run to hang until the runner kills it.
        try
        {
            await host.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the keeper of {Name} did not stop within 2 minutes; its log ends:\n{string.Join('\n', Log.Lines.TakeLast(40))}");
        }
    }

    public bool KeeperRunning => _host is not null;

    /// <summary>Edits the state file while the keeper is down (e.g. to replay a crash before a transition was recorded).</summary>
    public void RewriteState(Func<KeeperState, KeeperState> change)
    {
        if (_host is not null) throw new InvalidOperationException("stop the keeper first");
        var store = new StateStore(Path.Combine(StateDirectory, "keeper.state"));
        store.Save(change(store.Load()!));
    }

    /// <summary>The keeper dies but its PostgreSQL goes on running (as after kill -9 of the keeper).</summary>
    public async Task KillKeeperAsync()
    {
        if (_host is null) return;
        _host.Services.GetRequiredService<KeeperOptions>().StopPostgresOnExit = false;
        await StopKeeperAsync();
    }

    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = StateDirectory, Port = Port, Username = "postgres", Database = database, Pooling = false, Timeout = 5, CommandTimeout = 30,
    }.ConnectionString;

    public Task<T?> ScalarAsync<T>(string sql) => Sql.ScalarAsync<T>(ConnectionString(), sql);

    /// <summary>A count for polling: -1 while the table has not replicated yet or the server does not answer.</summary>
    public async Task<long> CountAsync(string sql)
    {
        try { return await ScalarAsync<long>(sql); }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable) { return -1; }
        catch (NpgsqlException) { return -1; }
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var c = new NpgsqlConnection(ConnectionString());
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task<bool> AcceptsQueriesAsync()
    {
        try { await ScalarAsync<int>("SELECT 1"); return true; }
        catch (NpgsqlException) { return false; }
        catch (TimeoutException) { return false; }
    }

    public async Task<bool> IsInRecoveryAsync() => await ScalarAsync<bool>("SELECT pg_is_in_recovery()");

    public bool PostmasterRunning
    {
        get
        {
            try
            {
                var first = File.ReadLines(Path.Combine(PgData, "postmaster.pid")).FirstOrDefault();
                if (!int.TryParse(first, out var pid)) return false;
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() is not ('Z' or 'X');
            }
            catch (IOException) { return false; }
        }
    }

    /// <summary>Crash: SIGKILL to the postmaster.</summary>
    public async Task KillPostgresAsync()
    {
        var first = File.ReadLines(Path.Combine(PgData, "postmaster.pid")).FirstOrDefault();
        if (int.TryParse(first, out var pid)) await ProcessRunner.RunAsync("kill", ["-9", pid.ToString()], TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(() => Task.FromResult(!PostmasterRunning), $"{Name}'s postmaster to die");
        await Eventually.TrueAsync(async () => !await Ports.AcceptsAsync(Port), $"{Name}'s port to close");
    }

    public async Task StopPostgresAsync()
    {
        await ProcessRunner.RunAsAsync("postgres", Path.Combine(PgCluster.BinDirectory, "pg_ctl"), ["-D", PgData, "-m", "fast", "-w", "stop"], TimeSpan.FromSeconds(60));
    }

    public NodeAddress Address(long nodeId) => new(FakeMonitor.Formation, 0, nodeId, Name, "127.0.0.1", Port);

    public string LogText => string.Join('\n', Log.Lines);

    public async ValueTask DisposeAsync()
    {
        try { await StopKeeperAsync(); } catch (Exception) { /* best effort */ }
        if (PostmasterRunning)
        {
            await ProcessRunner.RunAsAsync("postgres", Path.Combine(PgCluster.BinDirectory, "pg_ctl"), ["-D", PgData, "-m", "immediate", "-w", "stop"], TimeSpan.FromSeconds(60));
        }
    }
}

/// <summary>A test's group: a base folder owned by postgres, its own virtual host, a fake monitor.</summary>
public sealed class TestGroup : IAsyncDisposable
{
    private readonly List<KeeperNode> _nodes = [];

    private TestGroup(string baseDirectory, Uri amqp, FakeMonitor monitor)
    {
        BaseDirectory = baseDirectory;
        Amqp = amqp;
        Monitor = monitor;
    }

    public string BaseDirectory { get; }
    public Uri Amqp { get; }
    public FakeMonitor Monitor { get; }

    public static async Task<TestGroup> CreateAsync(RabbitMqFixture broker)
    {
        return await CreateAsync(await broker.NewVirtualHostAsync());
    }

    /// <summary>A group on a given broker (e.g. a private node the test kills).</summary>
    public static async Task<TestGroup> CreateAsync(Uri amqp)
    {
        var baseDirectory = Path.Combine(Path.GetTempPath(), "pgaf-test", $"k-{Guid.NewGuid():N}"[..12]);
        Directory.CreateDirectory(baseDirectory);
        if (ProcessRunner.IsRoot) await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("chown", ["postgres:postgres", baseDirectory], TimeSpan.FromSeconds(10)), "chown");
        return new TestGroup(baseDirectory, amqp, await FakeMonitor.StartAsync(amqp));
    }

    /// <summary>A new node; <paramref name="port"/> for one whose PostgreSQL runs already (adopted).</summary>
    public KeeperNode Node(string name, int? port = null)
    {
        var node = KeeperNode.New(this, name, port);
        _nodes.Add(node);
        return node;
    }

    /// <summary>
    /// node1 and node2, each configured by <paramref name="configure"/> before its keeper starts, brought to a primary with
    /// node2 as its synchronous secondary, through the states the monitor assigns on the way.
    /// </summary>
    public async Task<(KeeperNode Primary, KeeperNode Standby, long PrimaryId, long StandbyId)> PairAsync(Action<KeeperNode> configure)
    {
        var primary = Node("node1");
        var standby = Node("node2");
        configure(primary);
        configure(standby);
        await primary.StartKeeperAsync();
        var pid = await primary.WaitRegisteredAsync();
        await Monitor.WaitForStateAsync(pid, NodeState.Single);
        await standby.StartKeeperAsync();
        var sid = await standby.WaitRegisteredAsync();
        await Monitor.WaitForStateAsync(sid, NodeState.WaitStandby);
        await Monitor.ReachAsync(pid, NodeState.WaitPrimary);
        await Monitor.ReachAsync(sid, NodeState.CatchingUp);
        await Monitor.ReachAsync(sid, NodeState.Secondary);
        await Monitor.ReachAsync(pid, NodeState.Primary, $"FIRST 1 (pgautofailover_standby_{sid})");
        return (primary, standby, pid, sid);
    }

    /// <summary>Starts a keeper that registers as the first node and reaches single.</summary>
    public async Task<(KeeperNode Node, long Id)> SingleAsync(string name = "node1")
    {
        var node = Node(name);
        await node.StartKeeperAsync();
        var id = await node.WaitRegisteredAsync();
        await Monitor.WaitForStateAsync(id, Contracts.NodeState.Single);
        return (node, id);
    }

    /// <summary>Primary + standby in synchronous streaming replication, as the monitor would drive them.</summary>
    public async Task<(KeeperNode Primary, long PrimaryId, KeeperNode Standby, long StandbyId)> PairAsync((KeeperNode, long)? single = null)
    {
        var (primary, pid) = single ?? await SingleAsync("node1");
        var standby = Node("node2");
        await standby.StartKeeperAsync();
        var sid = await standby.WaitRegisteredAsync();
        await Monitor.WaitForStateAsync(sid, Contracts.NodeState.WaitStandby);
        await Monitor.ReachAsync(pid, Contracts.NodeState.WaitPrimary);
        await Monitor.ReachAsync(sid, Contracts.NodeState.CatchingUp);
        await Monitor.ReachAsync(sid, Contracts.NodeState.Secondary);
        await Monitor.ReachAsync(pid, Contracts.NodeState.Primary, $"FIRST 1 (pgautofailover_standby_{sid})");
        return (primary, pid, standby, sid);
    }

    /// <summary>Runs a test body; on failure the keepers' logs are attached to the exception.</summary>
    public async Task WithLogsAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception e)
        {
            var logs = string.Join("\n", _nodes.Select(n => $"---- {n.Name} keeper log (tail) ----\n{string.Join('\n', n.Log.Lines.TakeLast(80))}"));
            throw new Xunit.Sdk.XunitException($"{e.GetType().Name}: {e.Message}\n{logs}\n{e.StackTrace}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        await Monitor.DisposeAsync();
        if (Environment.GetEnvironmentVariable("PGAF_KEEP_CLUSTERS") != "1")
        {
            try { Directory.Delete(BaseDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
