using System.Diagnostics;
using Npgsql;

namespace PgAutoFailover.Testing.EndToEnd;

/// <summary>
/// One data node of a <see cref="ProcessCluster"/>: a keeper process (<c>keeper create … --run</c>, later
/// <c>keeper run</c>) driving its own PostgreSQL on a loopback port.
/// </summary>
public sealed class DataNode : IAsyncDisposable
{
    internal DataNode(string name, string pgData, int port, int httpPort, ServiceProcess keeper, string host = "127.0.0.1")
    {
        Host = host;
        Name = name;
        PgData = pgData;
        Port = port;
        HttpPort = httpPort;
        Keeper = keeper;
    }

    public string Name { get; }

    /// <summary>Where its PostgreSQL listens and what it registers as: loopback, or its address in a network lab.</summary>
    public string Host { get; }

    /// <summary>
    /// Where the test asks the node whether it accepts writes: loopback, or for a node in a network lab its Unix socket
    /// (the keeper's directory), which no network fault cuts, so a partitioned primary is still watched.
    /// </summary>
    public string WatchHost => Host == "127.0.0.1" ? Host : StateDirectory;
    public string PgData { get; }
    public string StateDirectory => PgData + ".keeper";
    public string PostgresLog => Path.Combine(StateDirectory, "postgres.log");
    public int Port { get; }
    public int HttpPort { get; }
    public ServiceProcess Keeper { get; }
    public bool Created { get; private set; }

    private static string KeeperDll => ServiceProcess.Dll("keeper", "PgAutoFailover.Keeper");

    /// <summary>keeper create … --run (first start), or keeper run --pgdata (after a crash).</summary>
    public void StartKeeper()
    {
        if (!Created)
        {
            Created = true;
            Keeper.Start(KeeperDll, "create", "--pgdata", PgData, "--port", Port.ToString(), "--hostname", Host,
                "--name", Name, "--formation", ProcessCluster.Formation, "--pg-bindir", PgCluster.BinDirectory, "--run");
        }
        else
        {
            Keeper.Start(KeeperDll, "run", "--pgdata", PgData);
        }
    }

    public int? PostmasterPid
    {
        get
        {
            try
            {
                using var stream = new FileStream(Path.Combine(PgData, "postmaster.pid"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                return int.TryParse(reader.ReadLine(), out var pid) && Alive(pid) ? pid : null;
            }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
        }
    }

    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
    }

    private readonly List<int> _paused = [];

    /// <summary>
    /// Pauses PostgreSQL alone (SIGSTOP to the postmaster and every child: a stopped postmaster alone leaves its
    /// backends serving), the keeper left running. <see cref="ResumePostgresAsync"/> resumes exactly these processes,
    /// even if the postmaster was killed meanwhile and its children left to init.
    /// </summary>
    public async Task PausePostgresAsync()
    {
        if (PostmasterPid is not { } pid) return;
        var processes = PgCluster.ChildrenOf(pid).Prepend(pid).ToList();
        _paused.AddRange(processes);
        await ProcessRunner.RunAsync("kill", ["-STOP", .. processes.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))], TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGCONT to what <see cref="PausePostgresAsync"/> stopped (a process gone since is skipped by kill).</summary>
    public async Task ResumePostgresAsync()
    {
        if (_paused.Count == 0) return;
        var processes = _paused.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        _paused.Clear();
        await ProcessRunner.RunAsync("kill", ["-CONT", .. processes], TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Freezes the keeper alone (SIGSTOP): it sends nothing more, PostgreSQL keeps running. What the monitor last heard
    /// from the node stays what it heard; <see cref="ResumeKeeperAsync"/> or a crash ends the freeze.
    /// </summary>
    public Task PauseKeeperAsync() => SignalKeeperAsync("-STOP");

    /// <summary>SIGCONT to the keeper that <see cref="PauseKeeperAsync"/> froze.</summary>
    public Task ResumeKeeperAsync() => SignalKeeperAsync("-CONT");

    private async Task SignalKeeperAsync(string signal)
    {
        if (Keeper.Pid is not { } pid) return;
        await ProcessRunner.RunAsync("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
    }

    /// <summary>PostgreSQL alone crashes: SIGKILL to the postmaster (its backends end with it), the keeper left running.</summary>
    public async Task KillPostgresAsync()
    {
        if (PostmasterPid is not { } pid) return;
        SigKill(pid);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && PostmasterPid == pid) await Task.Delay(20);
    }

    /// <summary>Crash of the whole node: SIGKILL to the keeper and to the postmaster at once; waits until the port is closed.</summary>
    public async Task CrashAsync()
    {
        var postmaster = PostmasterPid;
        var kills = new List<Task> { Keeper.KillAsync() };
        if (postmaster is { } pid) SigKill(pid);
        await Task.WhenAll(kills);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && await Ports.AcceptsAsync(Host, Port)) await Task.Delay(20);
    }

    /// <summary>SIGKILL to one process; one already gone is fine.</summary>
    private static void SigKill(int pid)
    {
        try { using var p = Process.GetProcessById(pid); p.Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
    }

    public string ConnectionString(int timeoutSeconds = 5) => new NpgsqlConnectionStringBuilder
    {
        Host = Host, Port = Port, Username = "postgres", Database = "postgres",
        Pooling = false, Timeout = timeoutSeconds, CommandTimeout = 30,
    }.ConnectionString;

    public Task<T?> ScalarAsync<T>(string sql) => Sql.ScalarAsync<T>(ConnectionString(), sql);

    public async Task<List<long>> ColumnAsync(string sql)
    {
        await using var c = new NpgsqlConnection(ConnectionString());
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await using var reader = await cmd.ExecuteReaderAsync();
        var list = new List<long>();
        while (await reader.ReadAsync()) list.Add(reader.GetInt64(0));
        return list;
    }

    public string LogTail(int lines)
    {
        string pg;
        try
        {
            using var stream = new FileStream(PostgresLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            pg = string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(lines / 2));
        }
        catch (IOException) { pg = "(no log)"; }
        catch (UnauthorizedAccessException) { pg = "(unreadable)"; }
        return $"---- {Name} keeper (tail) ----\n{Keeper.Tail(lines)}\n---- {Name} postgres (tail) ----\n{pg}";
    }

    /// <summary>A file system of its own holding PGDATA and the keeper's state (a tmpfs of a chosen size), or null.</summary>
    public string? Disk { get; init; }

    private string Ballast => Path.Combine(Disk ?? throw new InvalidOperationException($"{Name} has no disk of its own"), "ballast");

    /// <summary>Fills the node's file system to the last byte, as a runaway log or a copy gone wrong would.</summary>
    public async Task FillDiskAsync()
    {
        // Most of it at once, leaving a few MB for what PostgreSQL writes meanwhile (asking for all that was free a
        // moment ago can fail); then the rest chunk by chunk until the file system refuses.
        var bulk = new DriveInfo(Disk!).AvailableFreeSpace - 8 * 1024 * 1024;
        if (bulk > 0)
            await ProcessRunner.RunAsync("fallocate", ["-l", bulk.ToString(System.Globalization.CultureInfo.InvariantCulture), Ballast], TimeSpan.FromSeconds(30));
        try
        {
            await using var rest = new FileStream(Ballast, FileMode.Append);
            var chunk = new byte[64 * 1024];
            while (true) await rest.WriteAsync(chunk);
        }
        catch (IOException) { }
    }

    /// <summary>Frees what <see cref="FillDiskAsync"/> took.</summary>
    public Task FreeDiskAsync()
    {
        File.Delete(Ballast);
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await ResumePostgresAsync();
        await Keeper.KillAsync();
        if (PostmasterPid is { } pid)
        {
            SigKill(pid);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (DateTime.UtcNow < deadline && await Ports.AcceptsAsync(Port)) await Task.Delay(50);
        }
        await Keeper.DisposeAsync();
        if (Disk is not null) await ProcessRunner.RunAsync("umount", ["--lazy", Disk], TimeSpan.FromSeconds(30));
    }
}
