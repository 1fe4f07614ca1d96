using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.EndToEndTests.ClientPaths;

/// <summary>
/// Debian's PgBouncer (transaction pooling) with one database entry, "appdb", and the example relay
/// (examples/PgBouncerRelay) that points it at the formation's primary. Both run as postgres: PgBouncer refuses root,
/// and the relay must leave the ini owned by PgBouncer's user.
/// </summary>
internal sealed class PgBouncer : IAsyncDisposable
{
    public const string Database = "appdb";
    private readonly string _directory;
    private readonly BackgroundProcess _relay;

    private PgBouncer(string directory, int port, BackgroundProcess relay)
    {
        _directory = directory;
        Port = port;
        _relay = relay;
    }

    public int Port { get; }
    public string Ini => Path.Combine(_directory, "pgbouncer.ini");
    public string RelayLog => _relay.Tail();
    public string Tail() => string.Join(Environment.NewLine, File.ReadLines(Path.Combine(_directory, "pgbouncer.log")).TakeLast(30)) + Environment.NewLine + RelayLog;

    public static async Task<PgBouncer> StartAsync(ProcessCluster cluster, DataNode primary)
    {
        var directory = Path.Combine(cluster.BaseDirectory, "pgbouncer");
        Directory.CreateDirectory(directory);
        var port = Ports.Free();
        await File.WriteAllTextAsync(Path.Combine(directory, "pgbouncer.ini"), $"""
            [databases]
            {Database} = host=127.0.0.1 port={primary.Port} dbname=postgres

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = trust
            auth_file = {directory}/users.txt
            pidfile = {directory}/pgbouncer.pid
            logfile = {directory}/pgbouncer.log
            pool_mode = transaction
            server_login_retry = 0.1
            server_connect_timeout = 2
            server_tls_sslmode = require

            """);
        await File.WriteAllTextAsync(Path.Combine(directory, "users.txt"), "\"postgres\" \"\"\n");
        if (ProcessRunner.IsRoot)
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("chown", ["-R", "postgres:postgres", directory], TimeSpan.FromSeconds(10)), "chown");
        await ProcessRunner.CheckedAsync(ProcessRunner.RunAsAsync("postgres", "pgbouncer", ["-d", Path.Combine(directory, "pgbouncer.ini")], TimeSpan.FromSeconds(30)), "pgbouncer -d");
        await Ports.WaitUntilAcceptingAsync(port, TimeSpan.FromSeconds(30), "PgBouncer");
        var relay = BackgroundProcess.Start(BackgroundProcess.Example("PgBouncerRelay"),
            ["--ini", Path.Combine(directory, "pgbouncer.ini"), "--database", Database, "--uri-service", $"http://127.0.0.1:{cluster.UriServiceHttpPort}"],
            Path.Combine(cluster.BaseDirectory, "relay.log"), asUser: "postgres");
        return new PgBouncer(directory, port, relay);
    }

    public string ConnectionString =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={Database};Pooling=false;Timeout=2;Command Timeout=5";

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        var pidFile = Path.Combine(_directory, "pgbouncer.pid");
        if (File.Exists(pidFile) && int.TryParse((await File.ReadAllTextAsync(pidFile)).Trim(), out var pid))
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
            }
            catch (ArgumentException) { } // already gone
            catch (InvalidOperationException) { }
        }
    }
}
