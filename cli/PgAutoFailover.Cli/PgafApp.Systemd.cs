using System.CommandLine;
using PgAutoFailover.Cli.Formatting;

// pgaf show systemd: a unit file for a service, as pg_autoctl show systemd prints one.
namespace PgAutoFailover.Cli;

public static partial class PgafApp
{
    private sealed partial class App
    {
        private Command ShowSystemd()
        {
            var service = new Option<string>("--service")
            {
                Description = "keeper, monitor, health-checker or uri-service",
                DefaultValueFactory = _ => "keeper",
            };
            var pgdata = new Option<string?>("--pgdata") { Description = "The keeper's PostgreSQL data directory (required for the keeper)" };
            var executable = new Option<string?>("--exec") { Description = "The service's executable (default: /opt/pgaf/<service>/<executable>)" };
            var environmentFile = new Option<string?>("--environment-file")
            {
                Description = "File of KEY=value settings and passwords the unit reads (default: /etc/pgaf/<service>.env)",
            };
            var user = new Option<string>("--user") { Description = "OS user of the keeper (and its PostgreSQL)", DefaultValueFactory = _ => "postgres" };
            var command = new Command("systemd", "Print a systemd unit file for a service; nothing is installed or contacted")
            {
                service, pgdata, executable, environmentFile, user,
            };
            command.SetAction((p, ct) => Guard(async () =>
            {
                var name = p.GetValue(service)?.Trim() ?? "";
                if (!SystemdUnit.Executables.ContainsKey(name))
                    throw Usage($"--service must be one of {string.Join(", ", SystemdUnit.Executables.Keys)}, got \"{name}\"");
                var directory = p.GetValue(pgdata)?.Trim();
                if (name == "keeper" && string.IsNullOrEmpty(directory)) throw Usage("--pgdata is required for the keeper's unit");
                if (name != "keeper" && !string.IsNullOrEmpty(directory)) throw Usage($"--pgdata is for the keeper's unit, not the {name}'s");
                var exec = Absolute(p.GetValue(executable), "--exec") ?? SystemdUnit.DefaultExecutable(name);
                var file = Absolute(p.GetValue(environmentFile), "--environment-file") ?? $"/etc/pgaf/{name}.env";
                var osUser = p.GetValue(user)?.Trim();
                if (string.IsNullOrEmpty(osUser) || osUser.Any(char.IsWhiteSpace)) throw Usage($"--user must be an OS user name, got \"{osUser}\"");
                await WriteAsync(SystemdUnit.Render(name, exec, file, directory is null ? null : Absolute(directory, "--pgdata"), osUser));
                return ExitCodes.Ok;
            }, ct));
            return command;
        }

        /// <summary>systemd wants absolute paths; a relative one is refused rather than guessed.</summary>
        private static string? Absolute(string? path, string what)
        {
            if (path is null) return null;
            var trimmed = path.Trim();
            return trimmed.StartsWith('/') && !trimmed.Contains('\n') ? trimmed : throw Usage($"{what} must be an absolute path, got \"{path}\"");
        }
    }
}
