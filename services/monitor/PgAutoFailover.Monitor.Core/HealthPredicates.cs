using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core;

/// <summary>
/// Node health predicates of docs/states.md#health, combining the two signals: health-checker probes
/// (<see cref="MonitorNode.Health"/>) and keeper reports (<see cref="MonitorNode.LastReportAt"/>,
/// <see cref="MonitorNode.PgIsRunning"/>). Healthy and Unhealthy are not complements.
/// </summary>
public static class HealthPredicates
{
    /// <summary>
    /// Reporting(X): the keeper reported less than KeeperSilenceTimeout ago (strict). A keeper that last reported a
    /// writable state renews its lease every third of <see cref="MonitorOptions.PrimaryLease"/>, so it is not
    /// reporting once a whole lease went by without a report (three renewals missed), if that is sooner.
    /// </summary>
    public static bool IsReporting(MonitorNode x, MonitorOptions o, DateTimeOffset now) =>
        x.LastReportAt is { } t && now - t < SilenceLimit(x, o);

    private static TimeSpan SilenceLimit(MonitorNode x, MonitorOptions o) =>
        States.IsWritable(x.ReportedState) && o.PrimaryLease < o.KeeperSilenceTimeout ? o.PrimaryLease : o.KeeperSilenceTimeout;

    /// <summary>
    /// Unhealthy(X): absent; or not reporting AND probes say bad (a probe after the monitor started, and the
    /// startup grace is over); or the keeper says PostgreSQL is not running.
    /// </summary>
    public static bool IsUnhealthy(MonitorNode? x, GroupState g, MonitorOptions o, DateTimeOffset now)
    {
        if (x is null) return true;
        if (!x.PgIsRunning && x.LastReportAt is not null) return true;
        return !IsReporting(x, o, now)
            && x.Health == NodeHealth.Bad
            && x.HealthCheckAt is { } checkedAt && checkedAt >= g.MonitorStartedAt
            && now - g.MonitorStartedAt >= o.StartupGracePeriod;
    }

    /// <summary>
    /// Healthy(X): probes good and PostgreSQL running; or probes bad/unknown but the keeper reported after the
    /// last probe, less than FreshReportWindow ago, that PostgreSQL runs ([main] PR #1141 and unknown health).
    /// </summary>
    public static bool IsHealthy(MonitorNode? x, MonitorOptions o, DateTimeOffset now)
    {
        if (x is null || !x.PgIsRunning) return false;
        if (x.Health == NodeHealth.Good) return true;
        if (x.LastReportAt is not { } reported) return false;
        var freshReport = now - reported < o.FreshReportWindow || IsReporting(x, o, now) && x.Health == NodeHealth.Unknown;
        var afterProbe = x.HealthCheckAt is not { } checkedAt || reported >= checkedAt;
        return freshReport && afterProbe;
    }

    /// <summary>WalDifferenceWithin(X, Y, d): true if either is absent, false if either LSN is unknown.</summary>
    public static bool WalDifferenceWithin(MonitorNode? x, MonitorNode? y, ulong delta)
    {
        if (x is null || y is null) return true;
        if (x.Lsn == 0 || y.Lsn == 0) return false;
        var diff = x.Lsn > y.Lsn ? x.Lsn - y.Lsn : y.Lsn - x.Lsn;
        return diff <= delta;
    }
}
