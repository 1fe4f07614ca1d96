using System.Diagnostics;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>
/// Keeps PostgreSQL from outliving its keeper's lease (docs/architecture.md#the-rule-that-keeps-one-writer): a dead keeper cannot
/// enforce the lease, so a tiny shell stops the postmaster (immediate shutdown) once the keeper is gone and the lease is
/// over, within its 0.2 s poll. The keeper named in the lease file (<see cref="LeaseFile"/>) is the one watched, so a
/// restarted keeper takes its PostgreSQL over; without a readable lease file, the keeper that started the shell is
/// watched and there is no grace.
/// </summary>
public static partial class LeaseGuard
{
    /// <summary>In the log and in the shell's command line: how a guard is recognised among processes.</summary>
    public const string Marker = "is gone and its lease is over";

    private const string Functions = """
        alive() { [ -r "/proc/$1/stat" ] || return 1; read -r s < "/proc/$1/stat" || return 1; s=${s##*) }; case "$s" in Z*|X*) return 1;; esac; return 0; }
        number() { case "$1" in ''|*[!0-9]*) return 1;; esac; return 0; }
        """;

    private const string Watch = """
        while alive "$pg"; do
          owner="$keeper"; until=0
          if [ -r "$lease" ] && read -r o u < "$lease" && number "$o" && number "$u"; then owner="$o"; until="$u"; fi
          if ! alive "$owner"; then
            read -r up rest < /proc/uptime; sec=${up%.*}; frac=${up#*.}; frac=${frac#0}
            if [ $((sec * 1000 + frac * 10)) -ge "$until" ]; then
              echo "pgaf keeper $owner is gone and its lease is over: stopping PostgreSQL (immediate shutdown)" >>"$log"
              kill -QUIT "$pg" 2>/dev/null
              i=0; while alive "$pg" && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i+1)); done
              kill -KILL "$pg" 2>/dev/null; break
            fi
          fi
          sleep 0.2
        done
        """;

    /// <summary>
    /// Runs the postmaster as its child and guards it; also reaps it, so a killed postmaster never lingers as a zombie.
    /// Arguments: $0 log file, $1 keeper PID, $2 lease file, then the command.
    /// </summary>
    public const string Watchdog =
        "log=\"$0\"; keeper=\"$1\"; lease=\"$2\"; shift 2\n" + Functions + "\n\"$@\" >>\"$log\" 2>&1 &\npg=$!\n" + Watch + "\nwait \"$pg\"";

    /// <summary>Guards a postmaster that runs already (one the keeper adopted). Arguments: $0 log file, $1 keeper PID, $2 lease file, $3 postmaster PID.</summary>
    public const string Guard = "log=\"$0\"; keeper=\"$1\"; lease=\"$2\"; pg=\"$3\"\n" + Functions + "\n" + Watch;

    /// <summary>
    /// Puts a postmaster the keeper did not start under the lease rule, once: not when its parent is a keeper's watchdog
    /// (a server a keeper started), nor when the guard recorded in <paramref name="guardFile"/> still watches it.
    /// </summary>
    public static void EnsureGuarded(int postmaster, string guardFile, string logFile, string leaseFile, OsCommand os, ILogger logger)
    {
        if (IsGuard(ParentOf(postmaster))) return;
        if (ReadGuardFile(guardFile) is var (guard, guarded) && guarded == postmaster && IsGuard(guard)) return;
        var info = os.StartInfo("/bin/sh", ["-c", Guard, logFile, Environment.ProcessId.ToString(), leaseFile, postmaster.ToString()]);
        var shell = Process.Start(info) ?? throw new KeeperException("could not start the lease guard of PostgreSQL");
        File.WriteAllText(guardFile, $"{shell.Id} {postmaster}\n");
        // Reaped when it ends (the postmaster stopped); it outlives this keeper by design.
        _ = shell.WaitForExitAsync().ContinueWith(_ => shell.Dispose(), TaskScheduler.Default);
        Log.GuardingForeignPostmaster(logger, postmaster, shell.Id);
    }

    private static (int Guard, int Guarded)? ReadGuardFile(string path)
    {
        try
        {
            var fields = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return fields.Length == 2 && int.TryParse(fields[0], out var g) && int.TryParse(fields[1], out var p) ? (g, p) : null;
        }
        catch (IOException) { return null; }
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 1 && int.TryParse(fields[1], out var parent) ? parent : null;
        }
        catch (IOException) { return null; }
    }

    private static bool IsGuard(int? pid)
    {
        if (pid is null) return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault() is not ('Z' or 'X')
                && File.ReadAllText($"/proc/{pid}/cmdline").Contains(Marker, StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL (PID {Postmaster}) was not started by a keeper: guarding it with the lease (guard PID {Guard})")]
        public static partial void GuardingForeignPostmaster(ILogger logger, int postmaster, int guard);
    }
}
