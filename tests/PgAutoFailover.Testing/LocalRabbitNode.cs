using System.Diagnostics;

namespace PgAutoFailover.Testing;

/// <summary>
/// A private RabbitMQ node from Debian's rabbitmq-server, on its own port and data folder, that a
/// test may kill (SIGKILL) and boot again on the same data. Needs no Docker engine.
/// </summary>
public sealed class LocalRabbitNode : IAsyncDisposable
{
    private const string ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(90);
    private readonly string _directory;

    private LocalRabbitNode(int port, string directory)
    {
        Port = port;
        _directory = directory;
    }

    public static bool Available => File.Exists(ServerScript);

    public int Port { get; }
    public string NodeName => $"pgaf{Port}@localhost";
    public Uri AmqpUri => new($"amqp://pgaf:pgaf@127.0.0.1:{Port}/");
    private string PidFile => Path.Combine(_directory, "pid");

    public static async Task<LocalRabbitNode> StartAsync()
    {
        if (!Available) throw new InvalidOperationException("rabbitmq-server is not installed: apt-get install rabbitmq-server");
        int port;
        do { port = Ports.Free(); } while (port + 20000 > 65535 || !Ports.IsFree(port + 20000));
        var directory = Path.Combine(Path.GetTempPath(), "pgaf-test", $"rmq-{port}-{Guid.NewGuid():N}"[..20]);
        Directory.CreateDirectory(directory);
        // A default user that may log in from anywhere, so the same URI works from namespaces too.
        File.WriteAllText(Path.Combine(directory, "rabbitmq.conf"),
            $"listeners.tcp.default = 127.0.0.1:{port}\nloopback_users = none\ndefault_user = pgaf\ndefault_pass = pgaf\n");
        File.WriteAllText(Path.Combine(directory, "enabled_plugins"), "[].");
        if (ProcessRunner.IsRoot)
        {
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("chown", ["-R", "rabbitmq:rabbitmq", directory], TimeSpan.FromSeconds(30)), "chown");
        }
        var node = new LocalRabbitNode(port, directory);
        await node.BootAsync();
        return node;
    }

    /// <summary>Boots the node (again, on the same data after a kill) and waits until AMQP answers.</summary>
    public async Task BootAsync()
    {
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = "/var/lib/rabbitmq",
            ["RABBITMQ_NODENAME"] = NodeName,
            ["RABBITMQ_NODE_PORT"] = Port.ToString(),
            ["RABBITMQ_DIST_PORT"] = (Port + 20000).ToString(),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log"),
            ["RABBITMQ_PID_FILE"] = PidFile,
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq.conf"),
        };
        await ProcessRunner.CheckedAsync(
            ProcessRunner.RunAsAsync("rabbitmq", ServerScript, ["-detached"], TimeSpan.FromSeconds(30), environment),
            "rabbitmq-server -detached");
        await Ports.WaitUntilAcceptingAsync(Port, BootTimeout, $"RabbitMQ node {NodeName}");
    }

    /// <summary>Crash: SIGKILL the Erlang VM and wait until the port closes.</summary>
    public async Task KillAsync()
    {
        if (ReadPid() is { } pid)
        {
            try { using var process = Process.GetProcessById(pid); process.Kill(); } catch (ArgumentException) { }
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && await Ports.AcceptsAsync(Port)) await Task.Delay(50);
    }

    private int? ReadPid()
    {
        try { return int.TryParse(File.ReadAllText(PidFile).Trim(), out var pid) ? pid : null; }
        catch (IOException) { return null; }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
