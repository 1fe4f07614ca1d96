namespace PgAutoFailover.Keeper.Postgres;

/// <summary>
/// The postmaster as a process: the PID its postmaster.pid names, whether that process is a live PostgreSQL, and the
/// signals the keeper sends it (SIGHUP to reload, SIGINT for a fast shutdown).
/// </summary>
public static class PostmasterProcess
{
    public const int SigHup = 1;
    public const int SigInt = 2;

    /// <summary>The PID PGDATA/postmaster.pid names, alive or not; null without the file.</summary>
    public static int? ReadPid(string pgData)
    {
        try
        {
            var first = File.ReadLines(Path.Combine(pgData, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, out var pid) ? pid : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The process lives, is not a zombie, and is a postgres process (a recycled PID does not count).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
            return state is not ('Z' or 'X') && File.ReadAllText($"/proc/{pid}/cmdline").Contains("postgres", StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
    }

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone or this user may not signal it.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
