namespace FailoverWriter;

/// <summary>The command line, read once; <see cref="Parse"/> throws <see cref="ArgumentException"/> with one line for bad input.</summary>
internal sealed record WriterSettings(string UriService, string Formation, TimeSpan Interval, TimeSpan? Duration, string User, string? Password, string? AcksFile, bool Json)
{
    public const string Usage = """
        Usage: FailoverWriter [options]
          Writes one row per transaction through PgAutoFailover.Client and prints the write outage of each failover.
          --uri-service URL   the uri-service (default http://127.0.0.1:7103)
          --formation NAME    the formation (default "default")
          --interval-ms N     pause between two writes, milliseconds (default 5)
          --duration-s N      stop after N seconds (default: run until Ctrl+C)
          --user NAME         PostgreSQL user (default postgres); the password from PGPASSWORD
          --acks FILE         append "id port unix-ms" for every acknowledged write
          --json              print one JSON object per outage instead of a sentence
        """;

    public static WriterSettings Parse(string[] args)
    {
        var s = new WriterSettings("http://127.0.0.1:7103", "default", TimeSpan.FromMilliseconds(5), null, "postgres",
            Environment.GetEnvironmentVariable("PGPASSWORD"), null, false);
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number(int min, int max) =>
                int.TryParse(Value(), out var n) && n >= min && n <= max ? n : throw new ArgumentException($"{args[i - 1]} must be a whole number from {min} to {max}, got \"{args[i]}\"");
            s = args[i] switch
            {
                "--uri-service" => s with { UriService = Value() },
                "--formation" => s with { Formation = Value() },
                "--interval-ms" => s with { Interval = TimeSpan.FromMilliseconds(Number(0, 60_000)) },
                "--duration-s" => s with { Duration = TimeSpan.FromSeconds(Number(1, 31_536_000)) },
                "--user" => s with { User = Value() },
                "--acks" => s with { AcksFile = Value() },
                "--json" => s with { Json = true },
                _ => throw new ArgumentException($"unknown option \"{args[i]}\" (--help lists them)"),
            };
        }
        if (!Uri.TryCreate(s.UriService, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--uri-service must be an http(s) address, got \"{s.UriService}\"");
        return s;
    }
}
