using System.Diagnostics;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>Where the PostgreSQL binaries are: the PgBinDir setting, else pg_config --bindir, else PATH, else /usr/lib/postgresql/15/bin.</summary>
public sealed class PgBinaries
{
    public const string DebianDefault = "/usr/lib/postgresql/15/bin";
    private static readonly string[] Needed = ["postgres", "pg_ctl", "initdb", "pg_basebackup", "pg_rewind", "pg_controldata"];

    private PgBinaries(string directory) => Directory = directory;

    public string Directory { get; }
    public string Path(string tool) => System.IO.Path.Combine(Directory, tool);

    public static PgBinaries Resolve(string? configured)
    {
        var candidates = new List<(string Dir, string Why)>();
        if (!string.IsNullOrWhiteSpace(configured)) candidates.Add((configured, "the PgBinDir setting"));
        else
        {
            if (PgConfigBinDir() is { } fromPgConfig) candidates.Add((fromPgConfig, "pg_config --bindir"));
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                if (File.Exists(System.IO.Path.Combine(dir, "pg_ctl")) && File.Exists(System.IO.Path.Combine(dir, "postgres"))) candidates.Add((dir, "PATH"));
            }
            candidates.Add((DebianDefault, "the Debian default"));
        }
        foreach (var (dir, _) in candidates)
        {
            if (Needed.All(tool => File.Exists(System.IO.Path.Combine(dir, tool)))) return new PgBinaries(dir);
        }
        var first = candidates[0];
        var missing = Needed.Where(tool => !File.Exists(System.IO.Path.Combine(first.Dir, tool)));
        throw new KeeperException($"PostgreSQL binaries not found: {first.Dir} (from {first.Why}) lacks {string.Join(", ", missing)}; " +
                                  "install postgresql-15 or set Keeper:PgBinDir / --pg-bindir");
    }

    private static string? PgConfigBinDir()
    {
        try
        {
            var info = new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(info);
            if (p is null) return null;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit(5000);
            return p.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
