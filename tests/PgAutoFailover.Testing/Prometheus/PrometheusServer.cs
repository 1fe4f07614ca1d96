using System.Diagnostics;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.Testing.Prometheus;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c>, which test.sh installs; <c>PROMETHEUS</c> names another
/// binary) on a free loopback port, evaluating the repository's deploy/prometheus/alerts.yml against the targets
/// given, under the job names those rules match. Scrapes and evaluates every second so that a test sees an alert
/// within seconds of its cause; the rules are the shipped ones, untouched.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly string _directory;
    private readonly StreamWriter _log;

    private PrometheusServer(Process process, int port, string directory)
    {
        _process = process;
        _directory = directory;
        _log = new StreamWriter(new FileStream(LogFile, FileMode.Create, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        Port = port;
        Api = new PrometheusApi(new Uri($"http://127.0.0.1:{port}/"));
    }

    public int Port { get; }

    /// <summary>Where its own output goes, for failure messages.</summary>
    public string LogFile => Path.Combine(_directory, "prometheus.log");

    public static string AlertRulesFile => Path.Combine(ServiceProcess.RepositoryRoot, "deploy", "prometheus", "alerts.yml");

    /// <summary>Starts Prometheus scraping <paramref name="targets"/> (job name → host:port) and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(IReadOnlyDictionary<string, string> targets)
    {
        var binary = Environment.GetEnvironmentVariable("PROMETHEUS") is { Length: > 0 } b ? b : "/usr/bin/prometheus";
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException($"{binary} is missing: install Debian's prometheus package (test.sh does) or set PROMETHEUS");
        }
        var directory = Directory.CreateTempSubdirectory("pgaf-prometheus-").FullName;
        var config = Path.Combine(directory, "prometheus.yml");
        var jobs = string.Concat(targets.Select(t =>
            $"  - job_name: {t.Key}\n    static_configs:\n      - targets: [\"{t.Value}\"]\n"));
        await File.WriteAllTextAsync(config,
            $"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {AlertRulesFile}\nscrape_configs:\n{jobs}");
        var port = Ports.Free();
        var info = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        })
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {binary}");
        var server = new PrometheusServer(process, port, directory);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Eventually.TrueAsync(async () =>
        {
            if (process.HasExited) throw new InvalidOperationException($"prometheus exited with {process.ExitCode}: {server.LogTail()}");
            try
            {
                return await server.Api.ReadyAsync();
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "Prometheus to be ready", StartTimeout);
        return server;
    }

    /// <summary>Its HTTP API.</summary>
    public PrometheusApi Api { get; }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.WriteLine(line);
    }

    /// <summary>The last lines of Prometheus's own log.</summary>
    public string LogTail()
    {
        using var reader = new StreamReader(new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(20));
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        lock (_log) _log.Dispose();
        if (Environment.GetEnvironmentVariable("PGAF_KEEP_CLUSTERS") != "1")
        {
            try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
        }
    }
}
