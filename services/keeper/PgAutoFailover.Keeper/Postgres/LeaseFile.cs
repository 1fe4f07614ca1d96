using System.Globalization;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>
/// What PostgreSQL's watchdog reads to know how long the server may outlive its keeper: "&lt;keeper pid&gt; &lt;until&gt;",
/// until in milliseconds of /proc/uptime. The keeper writes it when it starts (its own PID, the lease it inherits) and
/// whenever its lease moves; the watchdog stops PostgreSQL once that PID is gone and the lease is over. A primary's
/// keeper killed and restarted by its supervisor within the lease therefore costs no outage, and a keeper that stays
/// dead still cannot leave a writer behind past the lease the monitor counts on (issue 13 defect 5).
/// /proc/uptime runs on the boot-time clock, which never runs slower than the keeper's monotonic clock, so the
/// watchdog's "now" is never behind the keeper's.
/// </summary>
public sealed class LeaseFile(string path)
{
    public string Path { get; } = path;

    /// <summary>Milliseconds since boot, as the watchdog shell reads them (/proc/uptime, 10 ms resolution).</summary>
    public static long UptimeMs()
    {
        var text = File.ReadAllText("/proc/uptime");
        var seconds = text.AsSpan(0, text.IndexOf(' '));
        return (long)(decimal.Parse(seconds, CultureInfo.InvariantCulture) * 1000);
    }

    /// <summary>Records that PostgreSQL may outlive keeper <paramref name="keeperPid"/> until <paramref name="untilUptimeMs"/> (0: not at all).</summary>
    public void Write(int keeperPid, long untilUptimeMs)
    {
        var temp = Path + ".tmp";
        File.WriteAllText(temp, string.Create(CultureInfo.InvariantCulture, $"{keeperPid} {Math.Max(0, untilUptimeMs)}\n"));
        File.Move(temp, Path, overwrite: true);
    }

    /// <summary>The "until" recorded by the last keeper, or 0 when there is none (or it cannot be read).</summary>
    public long ReadUntil()
    {
        try
        {
            var parts = File.ReadAllText(Path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return parts.Length == 2 && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var until) ? until : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
