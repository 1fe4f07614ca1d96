using System.Diagnostics;
using Npgsql;

namespace PgAutoFailover.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster on a free loopback port: a copy of one initdb (made once as the postgres OS user and
/// kept, see <see cref="Template"/>) in a temp folder, every per-node setting on the pg_ctl command line (pg_basebackup and
/// pg_rewind copy postgresql.conf, so nothing node-specific lives there).
/// </summary>
public sealed class PgCluster : IAsyncDisposable
{
    public const string OsUser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private PgCluster(string baseDirectory, int port, IReadOnlyList<string> settings)
    {
        BaseDirectory = baseDirectory;
        Port = port;
        Settings = settings;
    }

    public string BaseDirectory { get; }
    public string DataDirectory => Path.Combine(BaseDirectory, "data");
    public string LogFile => Path.Combine(BaseDirectory, "postgres.log");
    public int Port { get; }
    public IReadOnlyList<string> Settings { get; }
    /// <summary>Keep the folder (data and log) after dispose; PGAF_KEEP_CLUSTERS=1 sets it for every cluster.</summary>
    public bool KeepOnDispose { get; set; } = Environment.GetEnvironmentVariable("PGAF_KEEP_CLUSTERS") == "1";

    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database,
            Pooling = false, Timeout = 5, CommandTimeout = 30,
        }.ConnectionString;

    public static string BinDirectory =>
        Environment.GetEnvironmentVariable("PG_BINDIR") is { Length: > 0 } dir ? dir : "/usr/lib/postgresql/15/bin";

    public static bool Available => File.Exists(Path.Combine(BinDirectory, "initdb"));

    /// <summary>A fresh cluster (trust auth, checksums for pg_rewind), a copy of the template initdb made, started.</summary>
    public static async Task<PgCluster> CreateAsync(params string[] extraSettings)
    {
        if (!Available)
        {
            throw new InvalidOperationException($"PostgreSQL binaries not found in {BinDirectory}: apt-get install postgresql-15, or set PG_BINDIR");
        }
        var template = await Template.Value;
        var cluster = await PrepareAsync(extraSettings);
        await ProcessRunner.CheckedAsync(
            ProcessRunner.RunAsAsync(OsUser, "cp", ["-a", template, cluster.DataDirectory], CommandTimeout), "copy of the template cluster");
        await cluster.StartAsync();
        return cluster;
    }

    /// <summary>
    /// initdb runs once, into a template every <see cref="CreateAsync"/> copies: an initdb costs about a second of CPU
    /// (2-3 s on a loaded two-core box) and a suite creates over a hundred clusters; a copy of its 40 MB takes 0.2 s.
    /// Every per-cluster setting is on the server's command line (<see cref="ServerArguments"/>), so the copies differ
    /// in nothing but their folder. They share the template's system identifier, as a standby shares its primary's:
    /// nothing here tells two test clusters apart by it (the keeper's own initdb makes each node's).
    /// The template stays in /tmp/pgaf-test for the test processes that run beside this one and after it; it is made
    /// in a folder of its own and renamed into place, so processes starting together never copy a half-made one.
    /// </summary>
    private static readonly Lazy<Task<string>> Template = new(FindOrCreateTemplateAsync);

    private static readonly string[] InitdbArguments = ["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8", "-k"];

    private static async Task<string> FindOrCreateTemplateAsync()
    {
        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(string.Join(' ', [BinDirectory, .. InitdbArguments]))))[..12].ToLowerInvariant();
        var template = Path.Combine(Path.GetTempPath(), "pgaf-test", $"template-{key}");
        if (Directory.Exists(template)) return template;
        var made = await PrepareAsync();
        try
        {
            await ProcessRunner.CheckedAsync(
                ProcessRunner.RunAsAsync(OsUser, Path.Combine(BinDirectory, "initdb"), ["-D", made.DataDirectory, .. InitdbArguments], CommandTimeout),
                "initdb");
            Directory.Move(made.DataDirectory, template);
        }
        catch (IOException) when (Directory.Exists(template))
        {
            // Another test process put its template in place first: use that one.
        }
        finally
        {
            try { Directory.Delete(made.BaseDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return template;
    }

    /// <summary>
    /// A streaming standby of <paramref name="primary"/> (pg_basebackup -R), started; with <paramref name="synchronous"/>
    /// the primary waits for it at every commit, so a promoted standby holds every committed transaction.
    /// </summary>
    public static async Task<PgCluster> CreateStandbyAsync(PgCluster primary, bool synchronous)
    {
        var standby = await PrepareAsync([.. primary.Settings]);
        await ProcessRunner.CheckedAsync(
            ProcessRunner.RunAsAsync(OsUser, Path.Combine(BinDirectory, "pg_basebackup"),
                ["-d", $"host=127.0.0.1 port={primary.Port} user=postgres application_name=standby{standby.Port}", "-D", standby.DataDirectory,
                 "-R", "-X", "stream", "-c", "fast", "--no-sync"],
                CommandTimeout),
            "pg_basebackup");
        await standby.StartAsync();
        if (synchronous)
        {
            await primary.ExecuteAsync($"ALTER SYSTEM SET synchronous_standby_names = 'standby{standby.Port}'");
            await primary.ExecuteAsync("SELECT pg_reload_conf()");
        }
        return standby;
    }

    /// <summary>Promotes this standby and waits until it takes writes.</summary>
    public async Task PromoteAsync()
    {
        await ExecuteAsync("SELECT pg_promote(wait => true, wait_seconds => 60)");
        if (await ScalarAsync<bool>("SELECT pg_is_in_recovery()")) throw new InvalidOperationException($"postgres on port {Port} is still in recovery after pg_promote");
    }

    /// <summary>An empty base folder owned by postgres and a port, for a data directory made by other means (pg_basebackup).</summary>
    public static async Task<PgCluster> PrepareAsync(params string[] extraSettings)
    {
        var baseDirectory = Path.Combine(Path.GetTempPath(), "pgaf-test", $"pg-{Guid.NewGuid():N}"[..15]);
        Directory.CreateDirectory(baseDirectory);
        if (ProcessRunner.IsRoot)
        {
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("chown", ["-R", $"{OsUser}:{OsUser}", baseDirectory], CommandTimeout), "chown");
        }
        return new PgCluster(baseDirectory, Ports.Free(), extraSettings);
    }

    /// <summary>Per-node settings, on the command line so that copies of postgresql.conf never carry them.</summary>
    public IReadOnlyList<string> ServerArguments =>
    [
        "-p", Port.ToString(), "-k", BaseDirectory, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
        "-c", "wal_level=replica", "-c", "max_wal_senders=10", "-c", "max_replication_slots=10", "-c", "hot_standby=on",
        .. Settings.SelectMany(setting => new[] { "-c", setting }),
    ];

    /// <summary>
    /// Starts the postmaster as a child of this process (through runuser when root) instead of
    /// letting pg_ctl detach it: here PID 1 does not reap orphans, and a killed, detached
    /// postmaster would stay a zombie whose PID in postmaster.pid blocks every restart.
    /// </summary>
    public async Task StartAsync()
    {
        var postgres = Path.Combine(BinDirectory, "postgres");
        string[] command = ["/bin/sh", "-c", "exec \"$@\" >>\"$0\" 2>&1", LogFile, postgres, "-D", DataDirectory, .. ServerArguments];
        var info = new ProcessStartInfo(ProcessRunner.IsRoot ? "runuser" : command[0]) { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var arg in ProcessRunner.IsRoot ? ["-u", OsUser, "--", .. command] : command[1..]) info.ArgumentList.Add(arg);
        _postmaster = Process.Start(info) ?? throw new InvalidOperationException("could not start postgres");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await AcceptsQueriesAsync())
        {
            if (_postmaster.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"postgres on port {Port} did not start; log {LogFile}:\n{Tail(ReadLog(), 20)}");
            }
            await Task.Delay(50);
        }
    }

    private Process? _postmaster;

    private async Task<bool> AcceptsQueriesAsync()
    {
        try
        {
            await ScalarAsync<int>("SELECT 1");
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    private static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));

    public Task StopAsync() => StopAsync("fast");

    /// <summary>Crash: the postmaster and its children get SIGKILL, no shutdown checkpoint.</summary>
    public async Task KillAsync()
    {
        var pid = PostmasterPid();
        if (pid is null) return;
        // All at once, as a machine or container dies. A backend left to notice its postmaster's death on its own could
        // still hold the shared memory when the next start looks, which then refuses ("pre-existing shared memory
        // block is still in use"): that made PooledSessionsTests flaky on a loaded machine.
        var processes = ChildrenOf(pid.Value).Prepend(pid.Value).ToList();
        await ProcessRunner.RunAsync("kill", ["-9", .. processes.Select(p => p.ToString())], CommandTimeout);
        if (_postmaster is not null) await _postmaster.WaitForExitAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && (processes.Any(ProcessExists) || await Ports.AcceptsAsync(Port))) await Task.Delay(50);
    }

    internal static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 1 && fields[1] == parent.ToString()) yield return pid;
        }
    }

    public async Task RestartAsync()
    {
        await StopAsync("fast");
        await StartAsync();
    }

    public bool IsRunning => PostmasterPid() is { } pid && ProcessExists(pid);

    public int? PostmasterPid()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        try
        {
            var first = File.ReadLines(pidFile).FirstOrDefault();
            return int.TryParse(first, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Alive and not a zombie: a killed postmaster re-parented to a PID 1 that does not reap stays visible.</summary>
    private static bool ProcessExists(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private async Task StopAsync(string mode)
    {
        if (!Directory.Exists(DataDirectory) || PostmasterPid() is null) return;
        await ProcessRunner.RunAsAsync(OsUser, Path.Combine(BinDirectory, "pg_ctl"),
            ["-D", DataDirectory, "-m", mode, "-w", "-t", "60", "stop"], CommandTimeout);
        if (_postmaster is not null) await _postmaster.WaitForExitAsync();
    }

    public Task<T?> ScalarAsync<T>(string sql, string database = "postgres") => Sql.ScalarAsync<T>(ConnectionString(database), sql);

    public async Task ExecuteAsync(string sql, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A fresh database, e.g. the monitor's Marten store; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await ExecuteAsync($"CREATE DATABASE \"{name}\"");
        return ConnectionString(name);
    }

    public string ReadLog() => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no log)";

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync("immediate");
        }
        finally
        {
            if (!KeepOnDispose)
            {
                try { Directory.Delete(BaseDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
    }
}
