namespace PgAutoFailover.Bench;

/// <summary>The benchmarks' command-line options: "--name value", a default when absent.</summary>
public static class BenchArguments
{
    public static string Option(string[] args, string name, string fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }

    public static bool Flag(string[] args, string name) => args.Contains(name);

    /// <summary>The machine's load average (1, 5, 15 minutes), printed beside figures.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
