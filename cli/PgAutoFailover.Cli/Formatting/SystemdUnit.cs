using PgAutoFailover.Contracts;
using System.Text;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>
/// `pgaf show systemd`, as pg_autoctl show systemd: a unit file for one PgAutoFailover service on a host without Docker
/// (docs/operations.md#systemd). Settings and passwords go in the EnvironmentFile (RABBITMQ_URL, Keeper__…), never in
/// the unit, which is world-readable.
/// </summary>
public static class SystemdUnit
{
    /// <summary>Service names and the executable each release installs under /opt/pgaf/&lt;service&gt;/.</summary>
    public static readonly IReadOnlyDictionary<string, string> Executables = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["keeper"] = "PgAutoFailover.Keeper",
        ["monitor"] = "PgAutoFailover.Monitor",
        ["health-checker"] = "PgAutoFailover.HealthChecker",
        ["uri-service"] = "PgAutoFailover.UriService",
    };

    /// <summary>Exit code of a keeper whose node was dropped from the formation (KeeperExit.NodeDropped in the keeper):
    /// starting it again is pointless.</summary>
    public const int KeeperDroppedExitCode = ServiceExitCodes.NodeDropped;

    public static string DefaultExecutable(string service) => $"/opt/pgaf/{service}/{Executables[service]}";

    public static string Render(string service, string executable, string environmentFile, string? pgdata, string user)
    {
        var keeper = service == "keeper";
        var unit = new StringBuilder();
        unit.AppendLine("[Unit]");
        unit.AppendLine($"Description=PgAutoFailover {service}{(keeper ? $" for {pgdata}" : "")}");
        unit.AppendLine($"# Settings and passwords (RABBITMQ_URL=amqp://…, {(keeper ? "Keeper__…" : "…")}) go in {environmentFile}, mode 0600.");
        unit.AppendLine("After=network-online.target");
        unit.AppendLine("Wants=network-online.target");
        unit.AppendLine();
        unit.AppendLine("[Service]");
        unit.AppendLine("Type=exec");
        unit.AppendLine($"EnvironmentFile={environmentFile}");
        if (keeper)
        {
            // The keeper runs PostgreSQL itself, as this user, and stops it when it stops.
            unit.AppendLine($"User={user}");
            unit.AppendLine($"ExecStart={Quote(executable)} run --pgdata {Quote(pgdata!)}");
            unit.AppendLine("ExecReload=/bin/kill -HUP $MAINPID");
            unit.AppendLine("TimeoutStopSec=90");
        }
        else
        {
            unit.AppendLine("DynamicUser=yes");
            unit.AppendLine($"ExecStart={Quote(executable)}");
            unit.AppendLine("TimeoutStopSec=30");
        }
        // Refused credentials, bad settings, a dropped node: starting again would fail the same way
        // (docs/operations.md#when-a-service-cannot-start).
        unit.AppendLine($"RestartPreventExitStatus={string.Join(' ', keeper ? ServiceExitCodes.DoNotRestart : ServiceExitCodes.DoNotRestart.Where(c => c != ServiceExitCodes.NodeDropped))}");
        unit.AppendLine("Restart=on-failure");
        unit.AppendLine("RestartSec=2");
        unit.AppendLine("KillSignal=SIGTERM");
        unit.AppendLine();
        unit.AppendLine("[Install]");
        unit.AppendLine("WantedBy=multi-user.target");
        return unit.ToString();
    }

    /// <summary>systemd's quoting for a path with spaces; a plain path stays as it is.</summary>
    private static string Quote(string path) => path.Contains(' ') || path.Contains('"')
        ? "\"" + path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\""
        : path;
}
