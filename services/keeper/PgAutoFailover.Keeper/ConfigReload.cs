using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Serialization;

namespace PgAutoFailover.Keeper;

/// <summary>One setting whose configured value differs from the one the keeper runs with.</summary>
/// <param name="Name">Property of <see cref="KeeperOptions"/>.</param>
/// <param name="Old">Value in use, as text.</param>
/// <param name="New">Value now configured, as text.</param>
/// <param name="Reloadable">Taken at run time (SIGHUP); otherwise it needs a restart of the keeper.</param>
public sealed record SettingChange(string Name, string Old, string New, bool Reloadable);

/// <summary>
/// What SIGHUP may change in a running keeper (services/keeper/README.md step 2). Timeouts, the loop period, the base-backup
/// rate and the damping limits take effect at their next use; the group and health-check hosts rewrite pg_hba
/// and reload PostgreSQL; candidate priority and replication quorum are sent to the monitor, which holds them.
/// The node's name and host are sent to the monitor too (update_node_metadata). Not the port: PostgreSQL listens
/// where it was started, and a monitor told of a port nobody listens on yet would see the node fail its probes
/// (a primary would be failed over); a keeper restarted with PostgreSQL stopped announces it before starting PostgreSQL
/// there. Everything else (port, formation, group and node id, listen addresses, data
/// and state directories, binaries,
/// authentication, PostgreSQL command-line settings, and the fencing period and timeout the monitor's lease margin
/// is computed from) needs a restart and is only reported.
/// </summary>
public static class ConfigReload
{
    /// <summary>Settings a running keeper takes on reload.</summary>
    public static readonly IReadOnlySet<string> Reloadable = new HashSet<string>(StringComparer.Ordinal)
    {
        nameof(KeeperOptions.LoopPeriod), nameof(KeeperOptions.MonitorTimeout), nameof(KeeperOptions.RegisterTimeout),
        nameof(KeeperOptions.PostgresStartTimeout), nameof(KeeperOptions.PostgresStopTimeout), nameof(KeeperOptions.CloneTimeout),
        nameof(KeeperOptions.MaximumBackupRate), nameof(KeeperOptions.StopPostgresOnExit),
        nameof(KeeperOptions.PostgresRestartFailureTimeout), nameof(KeeperOptions.PostgresRestartFailureMaxRetries),
        nameof(KeeperOptions.GroupHosts), nameof(KeeperOptions.HealthCheckHosts),
        nameof(KeeperOptions.CandidatePriority), nameof(KeeperOptions.ReplicationQuorum),
        nameof(KeeperOptions.Name), nameof(KeeperOptions.Host),
    };

    private static readonly PropertyInfo[] Settings = typeof(KeeperOptions)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p is { CanRead: true, CanWrite: true } && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
        .ToArray();

    /// <summary>Every setting whose value in <paramref name="configured"/> differs from <paramref name="live"/>.</summary>
    public static IReadOnlyList<SettingChange> Diff(KeeperOptions live, KeeperOptions configured) =>
    [
        .. Settings
            .Select(p => (p.Name, Old: Text(p.GetValue(live)), New: Text(p.GetValue(configured))))
            .Where(s => s.Old != s.New)
            .Select(s => new SettingChange(s.Name, s.Old, s.New, Reloadable.Contains(s.Name))),
    ];

    /// <summary>Copies the reloadable settings among <paramref name="changes"/> from <paramref name="configured"/> into <paramref name="live"/>.</summary>
    public static void Apply(KeeperOptions live, KeeperOptions configured, IEnumerable<SettingChange> changes)
    {
        foreach (var change in changes.Where(c => c.Reloadable))
        {
            var property = Settings.Single(p => p.Name == change.Name);
            property.SetValue(live, property.GetValue(configured));
        }
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        IEnumerable items => string.Join(",", items.Cast<object?>().Select(Text)),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
