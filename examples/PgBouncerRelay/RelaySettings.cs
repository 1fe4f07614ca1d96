namespace PgBouncerRelay;

/// <summary>The command line, read once; <see cref="Parse"/> throws <see cref="ArgumentException"/> with one line for bad input.</summary>
internal sealed record RelaySettings(string UriService, string Formation, string Ini, string Database, string? DbName, string PidFile)
{
    public const string Usage = """
        Usage: PgBouncerRelay --ini FILE --database NAME [options]
          Points the [databases] entry NAME of a pgbouncer.ini at the formation's primary and reloads PgBouncer
          (SIGHUP to the process in its pid file) whenever the uri-service announces another primary.
          --ini FILE          the pgbouncer.ini to edit (required)
          --database NAME     the entry in [databases] (required)
          --dbname NAME       the database on the primary (default: the formation's, from the uri-service)
          --pid-file FILE     PgBouncer's pid file (default: its "pidfile" setting in the ini)
          --uri-service URL   the uri-service (default http://127.0.0.1:7103)
          --formation NAME    the formation (default "default")
        Exit codes: 0 stopped, 1 cannot run (unreadable ini, no pid file), 2 bad arguments.
        """;

    public static RelaySettings Parse(string[] args)
    {
        string uri = "http://127.0.0.1:7103", formation = "default";
        string? ini = null, database = null, dbname = null, pidFile = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--uri-service": uri = Value(); break;
                case "--formation": formation = Value(); break;
                case "--ini": ini = Value(); break;
                case "--database": database = Value(); break;
                case "--dbname": dbname = Value(); break;
                case "--pid-file": pidFile = Value(); break;
                default: throw new ArgumentException($"unknown option \"{args[i]}\" (--help lists them)");
            }
        }
        if (ini is null) throw new ArgumentException("--ini is required");
        if (database is null) throw new ArgumentException("--database is required");
        if (database.Length == 0 || database.Any(c => char.IsWhiteSpace(c) || c is '=' or '[' or ']' or ';' or '#'))
            throw new ArgumentException($"--database \"{database}\" is not a valid PgBouncer database name");
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--uri-service must be an http(s) address, got \"{uri}\"");
        return new RelaySettings(uri, formation, ini, database, dbname, pidFile ?? "");
    }
}
