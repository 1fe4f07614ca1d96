using System.Diagnostics;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.EndToEndTests.ClientPaths;

/// <summary>A long-running tool (HAProxy, the relay, an example app), its output in a log file; killed with its children on dispose.</summary>
internal sealed class BackgroundProcess : IAsyncDisposable
{
    private readonly Process _process;

    public string LogFile { get; }

    private BackgroundProcess(Process process, string logFile)
    {
        _process = process;
        LogFile = logFile;
    }

    public bool Running => !_process.HasExited;

    /// <summary>Starts <paramref name="file"/>, as <paramref name="asUser"/> (through runuser) when we are root.</summary>
    public static BackgroundProcess Start(string file, IEnumerable<string> args, string logFile, IDictionary<string, string>? environment = null, string? asUser = null)
    {
        var command = new List<string>();
        if (asUser is not null && ProcessRunner.IsRoot) command.AddRange(["runuser", "-u", asUser, "--"]);
        command.Add(file);
        command.AddRange(args);
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true };
        // exec: the shell becomes the command; its output goes straight to the log, no pipe to drain.
        foreach (var a in (string[])["-c", "exec \"$0\" \"$@\" >>\"$PGAF_E2E_LOG\" 2>&1 </dev/null", .. command]) info.ArgumentList.Add(a);
        info.Environment["PGAF_E2E_LOG"] = logFile;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return new BackgroundProcess(Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}"), logFile);
    }

    /// <summary>bin/&lt;Configuration&gt;/net10.0/&lt;name&gt; of an example project, as built with the solution.</summary>
    public static string Example(string name)
    {
        var path = Path.Combine(ServiceProcess.RepositoryRoot, "examples", name, "bin", ServiceProcess.Configuration, "net10.0", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution first", path);
    }

    public string Tail(int lines = 40) =>
        File.Exists(LogFile) ? string.Join(Environment.NewLine, File.ReadLines(LogFile).TakeLast(lines)) : "(no log)";

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
