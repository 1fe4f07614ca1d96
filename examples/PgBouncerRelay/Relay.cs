using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PgAutoFailover.Client;

namespace PgBouncerRelay;

/// <summary>
/// Follows the uri-service and, each time it names a primary other than the one the ini points at, rewrites the
/// database entry (a new file moved over the old one, so PgBouncer never reads half of it) and sends PgBouncer a
/// SIGHUP. PgBouncer closes its server connections whose connect string changed, so sessions move to the new
/// primary. While no node accepts writes (the middle of a failover), the entry is left as it was.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed partial class Relay(RelaySettings settings, ILogger<Relay> log, ILogger<UriServiceFollower> followerLog, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var baseUrl = new Uri(settings.UriService.EndsWith('/') ? settings.UriService : settings.UriService + "/");
        var client = new UriServiceClient(http, baseUrl, settings.Formation);
        var follower = new UriServiceFollower(client, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5), logger: followerLog);
        try
        {
            await follower.RunAsync((answer, _) => { Apply(answer); return Task.CompletedTask; }, stop);
        }
        catch (RelayException e)
        {
            Log.CannotRun(log, e.Message);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    private void Apply(UriServiceAnswer answer)
    {
        if (answer.Primary is not { } primary) return;
        var dbname = settings.DbName ?? DatabaseOf(answer.Uri);
        var connect = PgBouncerIni.ConnectString(primary.Host, primary.Port, dbname);
        string ini;
        try { ini = File.ReadAllText(settings.Ini); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new RelayException($"cannot read {settings.Ini}: {e.Message}"); }
        if (PgBouncerIni.Get(ini, "databases", settings.Database) == connect) return;

        Replace(settings.Ini, PgBouncerIni.SetDatabase(ini, settings.Database, connect));
        var pid = ReadPid(settings.PidFile.Length > 0 ? settings.PidFile : PgBouncerIni.Get(ini, "pgbouncer", "pidfile"));
        if (Kill(pid, SigHup) != 0) throw new RelayException($"cannot signal PgBouncer (pid {pid}): errno {Marshal.GetLastPInvokeError()}");
        Log.Pointed(log, settings.Database, primary.Name, primary.Host, primary.Port, answer.Version);
    }

    private static string DatabaseOf(string uri) => MultiHostUri.Parse(uri).Database ?? "postgres";

    /// <summary>Writes a sibling file with the old one's mode, then moves it over: a reader sees the old file or the new one.</summary>
    private static void Replace(string path, string text)
    {
        var temp = $"{path}.pgaf-relay.tmp";
        try
        {
            File.WriteAllText(temp, text);
            File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RelayException($"cannot rewrite {path}: {e.Message}");
        }
    }

    private static int ReadPid(string? pidFile)
    {
        if (string.IsNullOrWhiteSpace(pidFile)) throw new RelayException("no pid file: pass --pid-file or set pidfile in the ini's [pgbouncer] section");
        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid) && pid > 1 ? pid
                : throw new RelayException($"{pidFile} does not hold a process id");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RelayException($"cannot read PgBouncer's pid file {pidFile}: {e.Message} (is PgBouncer running?)");
        }
    }

    private const int SigHup = 1;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private sealed class RelayException(string message) : Exception(message);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Database {Database} now points at {Node} ({Host}:{Port}), topology version {Version}; PgBouncer reloaded")]
        public static partial void Pointed(ILogger logger, string database, string node, string host, int port, long version);

        [LoggerMessage(2, LogLevel.Critical, "Cannot relay: {Reason}")]
        public static partial void CannotRun(ILogger logger, string reason);
    }
}
