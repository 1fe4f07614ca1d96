using System.Diagnostics;
using System.Reflection;

namespace PgAutoFailover.Testing.EndToEnd;

/// <summary>
/// One of our services as a REAL child process (<c>dotnet &lt;bin&gt;/&lt;Project&gt;.dll args</c>), its
/// stdout and stderr appended to a log file. It can be killed (SIGKILL) and started again with the
/// same (or other) arguments and environment.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private Process? _process;

    public ServiceProcess(string name, string project, string logFile, IDictionary<string, string> environment)
    {
        Name = name;
        Project = project;
        LogFile = logFile;
        Environment = new Dictionary<string, string>(environment);
    }

    public string Name { get; }
    public string Project { get; }
    public string LogFile { get; }
    public Dictionary<string, string> Environment { get; }
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;
    public bool Running => _process is { HasExited: false };

    /// <summary>The network namespace the process runs in (<c>ip netns exec</c>, same pid), or null for the host's.</summary>
    public string? Namespace { get; init; }

    /// <summary>The repository root: the folder holding PgAutoFailover.sln, found from the running assembly upwards.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The configuration this library was built with (Debug or Release); the services are expected in the same one.</summary>
    public static string Configuration { get; } =
        typeof(ServiceProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PgAutoFailover.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"PgAutoFailover.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>services/&lt;folder&gt;/&lt;Project&gt;/bin/&lt;Configuration&gt;/net10.0/&lt;Project&gt;.dll</summary>
    public static string Dll(string serviceFolder, string project)
    {
        var path = Path.Combine(RepositoryRoot, "services", serviceFolder, project, "bin", Configuration, "net10.0", project + ".dll");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: build the solution ({Configuration}) first", path);
        return path;
    }

    private static string DotnetHost =>
        System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : System.Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";

    public void Start(string dll, params string[] args)
    {
        if (Running) throw new InvalidOperationException($"{Name} is already running");
        File.AppendAllText(LogFile, $"==== {DateTime.UtcNow:HH:mm:ss.fff} start {Name}: {string.Join(' ', args)}{System.Environment.NewLine}");
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        // exec: the shell becomes dotnet (same pid), output goes straight to the log file, no pipe to drain.
        var command = Namespace is null ? "exec \"$0\" \"$@\"" : "exec /usr/sbin/ip netns exec \"$PGAF_E2E_NETNS\" \"$0\" \"$@\"";
        foreach (var a in (string[])["-c", command + " >>\"$PGAF_E2E_LOG\" 2>&1 </dev/null", DotnetHost, dll, .. args]) info.ArgumentList.Add(a);
        if (Namespace is not null) info.Environment["PGAF_E2E_NETNS"] = Namespace;
        foreach (var key in new[] { "ASPNETCORE_URLS", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", "Urls" }) info.Environment.Remove(key);
        info.Environment["PGAF_E2E_LOG"] = LogFile;
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in Environment) info.Environment[key] = value;
        _process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {Name}");
    }

    /// <summary>Crash: SIGKILL, and wait until the process is gone.</summary>
    public async Task KillAsync()
    {
        if (_process is null) return;
        try
        {
            if (!_process.HasExited)
            {
                File.AppendAllText(LogFile, $"==== {DateTime.UtcNow:HH:mm:ss.fff} SIGKILL {Name} (pid {_process.Id}){System.Environment.NewLine}");
                _process.Kill();
            }
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException) { }
    }

    /// <summary>Graceful stop: SIGTERM, then SIGKILL after <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process is null || _process.HasExited) return;
        await ProcessRunner.RunAsync("kill", ["-TERM", _process.Id.ToString()], TimeSpan.FromSeconds(10));
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { await KillAsync(); }
    }

    public async Task WaitHealthyAsync(int httpPort, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (!Running) throw new InvalidOperationException($"{Name} exited during start-up:\n{Tail(40)}");
            try
            {
                var response = await http.GetAsync($"http://127.0.0.1:{httpPort}/health");
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Name} not healthy on port {httpPort} within {timeout}:\n{Tail(40)}");
            await Task.Delay(200);
        }
    }

    public string Tail(int lines)
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(lines));
        }
        catch (IOException) { return "(no log)"; }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }
}
