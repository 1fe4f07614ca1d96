using System.Diagnostics;
using Npgsql;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>
/// Runs one PostgreSQL server. The postmaster is started as a child of the keeper (through runuser
/// when root), never detached with pg_ctl start: PID 1 here does not reap orphans, and a killed,
/// detached postmaster would stay a zombie whose PID in postmaster.pid blocks every restart.
/// Per-node settings (port, socket directory, listen address, replication settings) are on the
/// postgres command line, because pg_basebackup and pg_rewind copy postgresql.conf.
/// </summary>
public sealed partial class PostgresServer(KeeperOptions options, PgBinaries binaries, OsCommand os, ILogger logger)
{
    private Process? _postmaster;

    public PgFiles Files { get; } = new(options.PgData, os);
    public NodeTls Tls { get; } = new(options);
    /// <summary>How long this server may outlive its keeper (read by the watchdog shell).</summary>
    public LeaseFile Lease { get; } = new(Path.Combine(options.ResolvedStateDirectory, "postgres.lease"));
    public PgBinaries Binaries => binaries;
    public OsCommand Os => os;
    public string PgData => options.PgData;
    public int Port => options.Port;

    /// <summary>
    /// Over the Unix socket where the running postmaster listens: the keeper's own directory for a server it started, the
    /// server's own for an adopted one (docs/operations.md#adopting-a-running-database) until the keeper restarts it.
    /// </summary>
    public string LocalConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = (IsPostmasterAlive() ? PostmasterPidFile.Read(options.PgData)?.SocketDirectory : null) ?? options.SocketDirectory,
        Port = options.Port, Username = "postgres", Database = "postgres",
        Pooling = false, Timeout = 3, CommandTimeout = 30,
    }.ConnectionString;

    public IReadOnlyList<string> ServerArguments()
    {
        var listen = options.ListenAddresses is { Length: > 0 } l ? l : options.Host;
        var args = new List<string> { "-D", options.PgData, "-p", options.Port.ToString(), "-k", options.SocketDirectory };
        string[] settings =
        [
            $"listen_addresses={listen}", "wal_level=replica", "max_wal_senders=12", "max_replication_slots=12", "wal_log_hints=on",
            "hot_standby=on", "hot_standby_feedback=on", "wal_receiver_status_interval=1s", "wal_keep_size=1GB",
            "password_encryption=scram-sha-256", "logging_collector=off",
            // A replication link that goes silent (a partition: no reset) reads "streaming" on both ends until these
            // timeouts, 60 s by default, and commits wait for the standby all that time: 5 s ends the link, the
            // standby reports it, and the monitor turns synchronous replication off; a standby replies every second.
            // A stopped WAL receiver is restarted after 1 s, not 5 (docs/failover-timing.md#a-network-partition).
            "wal_sender_timeout=5s", "wal_receiver_timeout=5s", "wal_retrieve_retry_interval=1s",
            // After a crash PostgreSQL makes PGDATA durable before its redo; by default with an fsync of every file,
            // one by one (0.2 s on a fresh node here, seconds to minutes with many relations), on a rejoin's critical
            // path. syncfs does it with one call per file system (PGDATA, pg_wal, each tablespace), as the keeper
            // itself does after pg_rewind (docs/failover-timing.md#the-rejoin).
            "recovery_init_sync_method=syncfs",
            .. Tls.ServerSettings(),
            .. options.ExtraSettings,
        ];
        foreach (var s in settings) { args.Add("-c"); args.Add(s); }
        return args;
    }

    /// <summary>A postmaster runs that this keeper process did not start (an adopted server, or one a previous keeper started).</summary>
    public bool RunsWithoutThisKeeper => _postmaster is not { HasExited: false } && IsPostmasterAlive();

    /// <summary>With <see cref="KeeperOptions.PostgresDiesWithKeeper"/>: a running postmaster no keeper started obeys the lease too.</summary>
    public void EnsureLeaseGuard()
    {
        if (!options.PostgresDiesWithKeeper || !RunsWithoutThisKeeper || PostmasterPid() is not { } pid) return;
        EnsureStateDirectory();
        LeaseGuard.EnsureGuarded(pid, Path.Combine(options.ResolvedStateDirectory, "postgres.guard"), options.LogFile, Lease.Path, os, logger);
    }

    /// <summary>SIGHUP to the postmaster: reloads the configuration files without a session (pg_reload_conf() needs one).</summary>
    public void SignalReload()
    {
        if (PostmasterPid() is { } pid && PostmasterProcess.IsAlive(pid) && !PostmasterProcess.Signal(pid, PostmasterProcess.SigHup))
            throw new KeeperException($"could not signal PostgreSQL (PID {pid}) to reload its configuration: run the keeper as root or as its OS user");
    }

    /// <summary>The postmaster of PGDATA is alive (its PID file names a live, non-zombie process).</summary>
    public bool IsPostmasterAlive()
    {
        if (_postmaster is { HasExited: false }) return true;
        return PostmasterPid() is { } pid && PostmasterProcess.IsAlive(pid);
    }

    public async Task<bool> AcceptsQueriesAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var c = new NpgsqlConnection(LocalConnectionString);
            await c.OpenAsync(cancellationToken);
            await using var cmd = new NpgsqlCommand("SELECT 1", c);
            await cmd.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (NpgsqlException) { return false; }
        catch (TimeoutException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Starts PostgreSQL (no-op when it runs) and waits until it accepts queries.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Files.IsDataDirectory) throw new KeeperException($"{options.PgData} is not a PostgreSQL data directory: cannot start");
        var deadline = Stopwatch.StartNew();
        if (!IsPostmasterAlive())
        {
            RemoveStalePidFile();
            if (await ServerPreflight.PortInUseAsync(options.Host, options.Port))
            {
                throw new KeeperException($"port {options.Port} on {options.Host} is in use by another process: PostgreSQL of {options.PgData} cannot start");
            }
            EnsureStateDirectory();
            Tls.EnsureSelfSigned(os);
            var postgres = binaries.Path("postgres");
            string[] shell = options.PostgresDiesWithKeeper
                ? ["-c", LeaseGuard.Watchdog, options.LogFile, Environment.ProcessId.ToString(), Lease.Path, postgres, .. ServerArguments()]
                : ["-c", "exec \"$@\" >>\"$0\" 2>&1", options.LogFile, postgres, .. ServerArguments()];
            var info = os.StartInfo("/bin/sh", shell);
            info.RedirectStandardInput = true;
            Log.StartingPostgres(logger, postgres, string.Join(' ', ServerArguments()));
            _postmaster = Process.Start(info) ?? throw new KeeperException("could not start postgres");
            _postmaster.StandardInput.Close();
        }
        while (!await AcceptsQueriesAsync(cancellationToken))
        {
            if (_postmaster is { HasExited: true } || !IsPostmasterAlive())
            {
                // A standby that is still recovering refuses queries with "the database system is starting up": keep waiting while alive.
                throw new KeeperException($"PostgreSQL of {options.PgData} exited at start; log {options.LogFile}:\n{LogTail(15)}");
            }
            if (deadline.Elapsed > options.PostgresStartTimeout)
            {
                throw new KeeperException($"PostgreSQL of {options.PgData} did not accept queries within {options.PostgresStartTimeout}; log:\n{LogTail(15)}");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Stops PostgreSQL (fast by default) and waits until the postmaster is gone. No-op when down.</summary>
    public async Task StopAsync(CancellationToken cancellationToken, string mode = "fast", TimeSpan? timeout = null)
    {
        if (!IsPostmasterAlive()) return;
        var limit = timeout ?? options.PostgresStopTimeout;
        if (PostmasterPid() is null)
        {
            // PostgreSQL removes postmaster.pid as the last step of a shutdown already under way (the fence's, when the
            // actor stops it too): pg_ctl would only answer that there is no server, and a stop that failed on it
            // ended the keeper (fault campaign, a paused primary resumed as it was being demoted). Wait for it to go.
            if (await WaitGoneAsync(limit, cancellationToken)) return;
        }
        Log.StoppingPostgres(logger, mode);
        if (mode == "fast" && SignalFastShutdown() is { } pid)
        {
            // The signal pg_ctl would send, without pg_ctl's start-up and its 100 ms polling: a switchover waits on
            // this stop, and PostgreSQL is usually gone within a few tens of milliseconds of SIGINT. Watched by its
            // PID, not through the watchdog shell, which notices its child's exit only at its next 0.2 s poll.
            var stopping = Stopwatch.StartNew();
            while (PostmasterProcess.IsAlive(pid) && stopping.Elapsed < limit) await Task.Delay(10, cancellationToken);
            if (PostmasterProcess.IsAlive(pid))
            {
                Log.FastShutdownTooSlow(logger, limit);
                await StopAsync(cancellationToken, "immediate", limit);
                return;
            }
            ReleaseShell();
            return;
        }
        var result = await os.RunAsync(binaries.Path("pg_ctl"),
            ["-D", options.PgData, "-m", mode, "-w", "-t", Math.Max(1, (int)limit.TotalSeconds).ToString(), "stop"],
            limit + TimeSpan.FromSeconds(5), cancellationToken);
        if (result.ExitCode != 0 && IsPostmasterAlive())
        {
            // pg_ctl found no PID file: the postmaster ended a shutdown already under way between the check above and
            // pg_ctl's read (a fast shutdown that outlasted its limit by a hair; the fault campaign, a primary fenced
            // after its isolation), and only its watchdog shell, which polls every 0.2 s, is left. Not a failed stop.
            if (PostmasterPid() is null && await WaitGoneAsync(limit, cancellationToken)) return;
            if (mode != "immediate")
            {
                Log.PgCtlStopFailed(logger, mode, result.Combined);
                await StopAsync(cancellationToken, "immediate", limit);
                return;
            }
            throw new KeeperException($"pg_ctl stop failed: {result.Combined}");
        }
        if (!await WaitGoneAsync(limit, cancellationToken)) await ReapPostmasterAsync(cancellationToken);
    }

    /// <summary>Waits up to <paramref name="limit"/> for the postmaster to be gone; true, and its watchdog shell reaped, if it is.</summary>
    private async Task<bool> WaitGoneAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.StartNew();
        while (IsPostmasterAlive() && wait.Elapsed < limit) await Task.Delay(20, cancellationToken);
        if (IsPostmasterAlive()) return false;
        await ReapPostmasterAsync(cancellationToken);
        return true;
    }

    /// <summary>Forgets the watchdog shell of a postmaster that has exited; the shell exits by itself within its poll.</summary>
    private void ReleaseShell()
    {
        if (_postmaster is not { } shell) return;
        _postmaster = null;
        _ = shell.WaitForExitAsync().ContinueWith(_ => shell.Dispose(), TaskScheduler.Default);
    }

    private async Task ReapPostmasterAsync(CancellationToken cancellationToken)
    {
        if (_postmaster is null) return;
        await _postmaster.WaitForExitAsync(cancellationToken);
        _postmaster.Dispose();
        _postmaster = null;
    }

    /// <summary>
    /// Starts a fast shutdown at once and does not wait for it: SIGINT to the postmaster, which from that instant
    /// refuses new sessions and terminates the open ones (their transactions abort). The fence's first step, so that
    /// writes end within milliseconds of the decision; <see cref="StopAsync"/> then waits for the stop. False when no
    /// postmaster runs.
    /// </summary>
    public bool BeginFastShutdown() => SignalFastShutdown() is not null;

    /// <summary>SIGINT to the live postmaster of PGDATA; its PID, or null when none runs or the signal failed.</summary>
    private int? SignalFastShutdown() =>
        PostmasterPid() is { } pid && PostmasterProcess.IsAlive(pid) && PostmasterProcess.Signal(pid, PostmasterProcess.SigInt) ? pid : null;

    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        await StopAsync(cancellationToken);
        await StartAsync(cancellationToken);
    }

    /// <summary>
    /// Asks for promotion and returns at once (pg_ctl promote -W): the caller watches pg_is_in_recovery() more often
    /// than pg_ctl's own 100 ms wait would.
    /// </summary>
    public async Task PromoteAsync(CancellationToken cancellationToken)
    {
        await os.CheckedAsync("pg_ctl promote", binaries.Path("pg_ctl"), ["-D", options.PgData, "-W", "promote"],
            TimeSpan.FromSeconds(70), cancellationToken);
    }

    /// <summary>System identifier from pg_control (works while stopped), or null when PGDATA is not a data directory.</summary>
    public async Task<ulong?> SystemIdentifierAsync(CancellationToken cancellationToken)
    {
        var control = await ControlDataAsync(cancellationToken);
        return control.TryGetValue("Database system identifier", out var v) && ulong.TryParse(v, out var id) ? id : null;
    }

    public async Task<Dictionary<string, string>> ControlDataAsync(CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, string>();
        if (!Files.IsDataDirectory) return values;
        var result = await os.RunAsync(binaries.Path("pg_controldata"), ["-D", options.PgData], TimeSpan.FromSeconds(30), cancellationToken);
        if (result.ExitCode != 0) throw new KeeperException($"pg_controldata -D {options.PgData} failed: {result.Combined}");
        foreach (var line in result.StandardOutput.Split('\n'))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) values[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        return values;
    }

    /// <summary>The PID postmaster.pid names, alive or not; null without the file.</summary>
    public int? PostmasterPid() => PostmasterProcess.ReadPid(options.PgData);

    /// <summary>A postmaster.pid naming a dead or zombie process (killed postmaster, reboot) blocks a start: remove it.</summary>
    private void RemoveStalePidFile()
    {
        if (PostmasterPid() is { } pid && !PostmasterProcess.IsAlive(pid))
        {
            Log.RemovingStalePidFile(logger, pid);
            File.Delete(Path.Combine(options.PgData, "postmaster.pid"));
        }
    }

    public void EnsureStateDirectory()
    {
        Directory.CreateDirectory(options.ResolvedStateDirectory);
        File.SetUnixFileMode(options.ResolvedStateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        os.GiveToPostgres(options.ResolvedStateDirectory);
    }

    public string LogTail(int lines) => File.Exists(options.LogFile) ? OsCommand.Tail(File.ReadAllText(options.LogFile), lines) : "(no log)";

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Starting PostgreSQL: {Postgres} {Args}")]
        public static partial void StartingPostgres(ILogger logger, string postgres, string args);

        [LoggerMessage(Level = LogLevel.Information, Message = "Stopping PostgreSQL ({Mode})")]
        public static partial void StoppingPostgres(ILogger logger, string mode);

        [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL did not stop within {Limit} of a fast shutdown; stopping immediately")]
        public static partial void FastShutdownTooSlow(ILogger logger, TimeSpan limit);

        [LoggerMessage(Level = LogLevel.Warning, Message = "pg_ctl stop -m {Mode} failed ({Output}); stopping immediately")]
        public static partial void PgCtlStopFailed(ILogger logger, string mode, string output);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Removing stale postmaster.pid (process {Pid} is gone)")]
        public static partial void RemovingStalePidFile(ILogger logger, int pid);
    }
}
