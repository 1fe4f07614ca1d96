using System.Diagnostics;

namespace PgAutoFailover.Testing;

/// <summary>
/// A private RabbitMQ node from Debian's rabbitmq-server, on its own port and data folder, that a
/// test may kill (SIGKILL) and boot again on the same data. Needs no Docker engine.
/// </summary>
public sealed class LocalRabbitNode : IAsyncDisposable
{
    private const string ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private const int BootAttempts = 5;
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(120);
    private readonly string _directory;

    private LocalRabbitNode(int port, string directory, bool tls)
    {
        Port = port;
        _directory = directory;
        Tls = tls;
    }

    public static bool Available => File.Exists(ServerScript);

    public int Port { get; }
    public string NodeName => $"pgaf{Port}@localhost";

    /// <summary>The node listens with TLS only (no plain AMQP listener).</summary>
    public bool Tls { get; }

    /// <summary>amqp://127.0.0.1, or amqps://localhost (the name its test certificate carries) when <see cref="Tls"/>.</summary>
    public Uri AmqpUri => Tls ? new($"amqps://pgaf:pgaf@localhost:{Port}/") : new($"amqp://pgaf:pgaf@127.0.0.1:{Port}/");
    private string PidFile => Path.Combine(_directory, "pid");

    /// <summary>What the server script and the VM print, every boot appended: an early death's only trace.</summary>
    private string ConsoleFile => Path.Combine(_directory, "console.log");

    /// <summary>
    /// Starts a node; with <paramref name="tls"/> (a certificate and key its CA signed for "localhost") it accepts
    /// AMQP over TLS only. The files are copied into the node's folder, readable by the rabbitmq user.
    /// <paramref name="alsoListenOn"/> adds an AMQP listener on that address (a network lab's root address, for keepers
    /// inside its namespaces).
    /// </summary>
    public static async Task<LocalRabbitNode> StartAsync((string CaFile, string CertFile, string KeyFile)? tls = null, string? alsoListenOn = null)
    {
        if (!Available) throw new InvalidOperationException("rabbitmq-server is not installed: apt-get install rabbitmq-server");
        int port;
        do { port = Ports.Free(); } while (port + 20000 > 65535 || !Ports.IsFree(port + 20000));
        var directory = Path.Combine(Path.GetTempPath(), "pgaf-test", $"rmq-{port}-{Guid.NewGuid():N}"[..20]);
        Directory.CreateDirectory(directory);
        // A default user that may log in from anywhere, so the same URI works from namespaces too.
        var listeners = alsoListenOn is null
            ? $"listeners.tcp.default = 127.0.0.1:{port}\n"
            : $"listeners.tcp.1 = 127.0.0.1:{port}\nlisteners.tcp.2 = {alsoListenOn}:{port}\n";
        if (tls is var (caFile, certFile, keyFile))
        {
            File.Copy(caFile, Path.Combine(directory, "ca.crt"));
            File.Copy(certFile, Path.Combine(directory, "server.crt"));
            File.Copy(keyFile, Path.Combine(directory, "server.key"));
            listeners = $"""
                listeners.tcp = none
                listeners.ssl.default = 127.0.0.1:{port}
                ssl_options.cacertfile = {Path.Combine(directory, "ca.crt")}
                ssl_options.certfile = {Path.Combine(directory, "server.crt")}
                ssl_options.keyfile = {Path.Combine(directory, "server.key")}
                ssl_options.verify = verify_none
                ssl_options.fail_if_no_peer_cert = false

                """;
        }
        File.WriteAllText(Path.Combine(directory, "rabbitmq.conf"),
            $"{listeners}loopback_users = none\ndefault_user = pgaf\ndefault_pass = pgaf\n");
        File.WriteAllText(Path.Combine(directory, "enabled_plugins"), "[].");
        if (ProcessRunner.IsRoot)
        {
            await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("chown", ["-R", "rabbitmq:rabbitmq", directory], TimeSpan.FromSeconds(30)), "chown");
        }
        var node = new LocalRabbitNode(port, directory, tls is not null);
        await node.BootAsync();
        return node;
    }

    /// <summary>
    /// Boots the node (again, on the same data after a kill) and waits until AMQP answers. A VM that
    /// dies while booting (on a loaded box the old node's name can still be registered with epmd for
    /// a moment) is started again, up to <see cref="BootAttempts"/> times; the failure carries the
    /// node's console and log tails instead of a bare timeout.
    /// </summary>
    public async Task BootAsync()
    {
        var deadline = DateTime.UtcNow + BootTimeout;
        var said = new List<string>();
        for (var attempt = 1; ; attempt++)
        {
            TryDelete(PidFile);
            // In the background with its console in a file, not -detached: a detached VM that dies before its logger
            // starts says why on a console nobody reads (CI saw three such deaths in a row with nothing in the log).
            var start = await ProcessRunner.CheckedAsync(
                ProcessRunner.RunAsAsync("rabbitmq", "sh", ["-c", $"exec setsid {ServerScript} >> {ConsoleFile} 2>&1 < /dev/null &"],
                    TimeSpan.FromSeconds(30), Environment),
                "rabbitmq-server");
            if (start.Combined.Length > 0) said.Add($"attempt {attempt}: {start.Combined}");
            var outcome = await WaitForBootAsync(deadline);
            if (outcome == BootOutcome.Accepting) return;
            if (outcome == BootOutcome.TimedOut || attempt == BootAttempts)
            {
                // What a VM that dies before it logs leaves: the start command's output, epmd's names (a name still
                // registered by the killed node), and the crash dump's reason.
                var epmd = await ProcessRunner.RunAsync("epmd", ["-names"], TimeSpan.FromSeconds(10));
                throw new TimeoutException(
                    $"RabbitMQ node {NodeName} did not accept connections on port {Port} " +
                    $"({(outcome == BootOutcome.TimedOut ? $"not within {BootTimeout}" : $"its VM exited {attempt} times")}); " +
                    $"start output: {string.Join(" | ", said)}; epmd: {epmd.StandardOutput.ReplaceLineEndings(" ")}; {CrashDumpReason()}; " +
                    $"console tail:{System.Environment.NewLine}{Tail(ConsoleFile)}{System.Environment.NewLine}" +
                    $"log tail:{System.Environment.NewLine}{Tail(Path.Combine(_directory, "log", $"{NodeName}.log"))}");
            }
            await Task.Delay(TimeSpan.FromSeconds(1 << (attempt - 1))); // 1, 2, 4, 8 s: what stopped it may take a while to clear
        }
    }

    private async Task<BootOutcome> WaitForBootAsync(DateTime deadline)
    {
        var started = DateTime.UtcNow;
        var missing = 0;
        while (DateTime.UtcNow < deadline)
        {
            if (await Ports.AcceptsAsync(Port)) return BootOutcome.Accepting;
            // erl forks the VM and returns; give it a moment to appear before calling it dead: on a loaded box (CI builds
            // images beside the tests) the VM took more than the 2 s allowed before, and a second one then raced it.
            missing = FindVmPid() is null ? missing + 1 : 0;
            if (missing >= 20 && DateTime.UtcNow - started > TimeSpan.FromSeconds(10)) return BootOutcome.Exited;
            await Task.Delay(100);
        }
        return BootOutcome.TimedOut;
    }

    /// <summary>Pauses the Erlang VM (SIGSTOP): connections stay open and nothing answers on them.</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>Resumes what <see cref="PauseAsync"/> paused (SIGCONT).</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        if (FindVmPid() is { } pid)
            await ProcessRunner.RunAsync("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
    }

    /// <summary>Crash: SIGKILL the Erlang VM, then wait until it is gone and epmd has forgotten its name.</summary>
    public async Task KillAsync()
    {
        var pid = FindVmPid();
        if (pid is { } alive)
        {
            try { using var process = Process.GetProcessById(alive); process.Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline && (FindVmPid() is not null || await Ports.AcceptsAsync(Port) || await EpmdKnowsAsync()))
        {
            await Task.Delay(50);
        }
    }

    private Dictionary<string, string> Environment
    {
        get
        {
            var environment = BaseEnvironment;
            // The variable would add a plain listener on the TLS listener's port.
            if (!Tls) environment["RABBITMQ_NODE_PORT"] = Port.ToString();
            return environment;
        }
    }

    private Dictionary<string, string> BaseEnvironment => new()
    {
        ["HOME"] = "/var/lib/rabbitmq",
        ["RABBITMQ_NODENAME"] = NodeName,
        ["RABBITMQ_DIST_PORT"] = (Port + 20000).ToString(),
        ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia"),
        ["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log"),
        ["RABBITMQ_PID_FILE"] = PidFile,
        ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins"),
        ["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq.conf"),
    };

    /// <summary>
    /// The live beam.smp whose environment names this node. The VM's command line does not carry the
    /// node name, and the PID file is written only part-way through boot, so /proc is the one reliable
    /// place to look (a zombie counts as gone).
    /// </summary>
    private int? FindVmPid()
    {
        var marker = $"RABBITMQ_NODENAME={NodeName}\0";
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid)) continue;
            try
            {
                if (!File.ReadAllText(Path.Combine(entry, "cmdline")).Contains("beam.smp", StringComparison.Ordinal)) continue;
                if (File.ReadAllText(Path.Combine(entry, "stat")).Split(") ", 2) is [_, var rest] && rest.StartsWith('Z')) continue;
                if ((File.ReadAllText(Path.Combine(entry, "environ")) + "\0").Contains(marker, StringComparison.Ordinal)) return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    private async Task<bool> EpmdKnowsAsync()
    {
        try
        {
            var names = await ProcessRunner.RunAsync("epmd", ["-names"], TimeSpan.FromSeconds(10));
            return names.StandardOutput.Contains($"name pgaf{Port} ", StringComparison.Ordinal);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no epmd binary on PATH: nothing to wait for
        }
    }

    private string CrashDumpReason()
    {
        foreach (var dump in new[] { Path.Combine(_directory, "erl_crash.dump"), "/var/lib/rabbitmq/erl_crash.dump" })
        {
            try
            {
                if (File.Exists(dump) && File.GetLastWriteTimeUtc(dump) > DateTime.UtcNow.AddMinutes(-5))
                    return $"{dump}: {File.ReadLines(dump).Skip(1).FirstOrDefault()}";
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return "no recent erl_crash.dump";
    }

    private static string Tail(string file)
    {
        try
        {
            return string.Join(System.Environment.NewLine, File.ReadAllLines(file).TakeLast(25));
        }
        catch (IOException e) { return $"(no log: {e.Message})"; }
        catch (UnauthorizedAccessException e) { return $"(no log: {e.Message})"; }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private enum BootOutcome { Accepting, Exited, TimedOut }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
