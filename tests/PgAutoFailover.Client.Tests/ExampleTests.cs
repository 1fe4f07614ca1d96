using FailoverWriter;
using PgBouncerRelay;

namespace PgAutoFailover.Client.Tests;

/// <summary>The pure parts of the two examples: PgBouncer's ini edit, the outage arithmetic, and their command lines.</summary>
public sealed class ExampleTests
{
    private const string Ini = """
        ; written by hand
        [databases]
        other = host=10.0.0.9 port=5432 dbname=other
        appdb = host=10.0.0.1 port=5432 dbname=app

        [pgbouncer]
        listen_port = 6432
        pidfile = /run/pgbouncer/pgbouncer.pid
        """;

    [Fact]
    public void The_relay_replaces_only_its_own_database_line_and_keeps_every_other_line()
    {
        var edited = PgBouncerIni.SetDatabase(Ini, "appdb", PgBouncerIni.ConnectString("10.0.0.2", 5433, "app"));
        Assert.Equal(Ini.Replace("appdb = host=10.0.0.1 port=5432 dbname=app", "appdb = host=10.0.0.2 port=5433 dbname=app"), edited);
        Assert.Equal("host=10.0.0.2 port=5433 dbname=app", PgBouncerIni.Get(edited, "databases", "appdb"));
        Assert.Equal("/run/pgbouncer/pgbouncer.pid", PgBouncerIni.Get(edited, "pgbouncer", "pidfile"));
        Assert.Null(PgBouncerIni.Get(edited, "pgbouncer", "appdb"));
    }

    [Fact]
    public void A_missing_entry_is_added_to_the_end_of_its_section_and_a_missing_section_is_created()
    {
        var added = PgBouncerIni.SetDatabase(Ini, "new", "host=h port=1 dbname=d");
        var lines = added.Split('\n');
        Assert.Equal("new = host=h port=1 dbname=d", lines[Array.IndexOf(lines, "appdb = host=10.0.0.1 port=5432 dbname=app") + 1]);
        Assert.Equal("host=h port=1 dbname=d", PgBouncerIni.Get(added, "databases", "new"));

        var created = PgBouncerIni.SetDatabase("[pgbouncer]\nlisten_port = 1\n", "appdb", "host=h port=1 dbname=d");
        Assert.StartsWith("[databases]\nappdb = host=h port=1 dbname=d\n", created);
        Assert.Equal("1", PgBouncerIni.Get(created, "pgbouncer", "listen_port"));
    }

    [Fact]
    public void A_commented_entry_is_not_taken_for_the_real_one()
    {
        var ini = "[databases]\n;appdb = host=old port=1 dbname=d\n";
        Assert.Null(PgBouncerIni.Get(ini, "databases", "appdb"));
        Assert.Equal("[databases]\n;appdb = host=old port=1 dbname=d\nappdb = x", PgBouncerIni.SetDatabase(ini, "appdb", "x").TrimEnd('\n'));
    }

    [Fact]
    public void An_outage_runs_from_the_last_acknowledged_write_to_the_next_one_after_failures()
    {
        var tracker = new OutageTracker();
        Assert.Null(tracker.Acknowledged(TimeSpan.FromSeconds(1), 5501));
        Assert.Null(tracker.Acknowledged(TimeSpan.FromSeconds(1.01), 5501));
        tracker.Failed("connection refused");
        tracker.Failed("another error");
        var outage = tracker.Acknowledged(TimeSpan.FromSeconds(3.51), 5502);
        Assert.Equal(new OutageTracker.Outage(TimeSpan.FromSeconds(2.5), 5501, 5502, 2, "connection refused"), outage);
        Assert.Null(tracker.Acknowledged(TimeSpan.FromSeconds(3.52), 5502));
        // A move to another server with no failed write between (a switchover between two writes) is an outage too.
        Assert.Equal(5501, tracker.Acknowledged(TimeSpan.FromSeconds(3.6), 5501)?.ToPort);
    }

    [Theory]
    [InlineData(new[] { "--interval-ms", "x" }, "--interval-ms must be a whole number from 0 to 60000, got \"x\"")]
    [InlineData(new[] { "--uri-service" }, "--uri-service needs a value")]
    [InlineData(new[] { "--uri-service", "--json" }, "--uri-service needs a value")]
    [InlineData(new[] { "--uri-service", "127.0.0.1:7103" }, "--uri-service must be an http(s) address, got \"127.0.0.1:7103\"")]
    [InlineData(new[] { "--frobnicate" }, "unknown option \"--frobnicate\" (--help lists them)")]
    public void The_writer_refuses_bad_arguments_with_one_line(string[] args, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => WriterSettings.Parse(args)).Message);

    [Theory]
    [InlineData(new[] { "--database", "appdb" }, "--ini is required")]
    [InlineData(new[] { "--ini", "/x" }, "--database is required")]
    [InlineData(new[] { "--ini", "/x", "--database", "app db" }, "--database \"app db\" is not a valid PgBouncer database name")]
    [InlineData(new[] { "--ini", "/x", "--database", "a", "--uri-service", "nope" }, "--uri-service must be an http(s) address, got \"nope\"")]
    public void The_relay_refuses_bad_arguments_with_one_line(string[] args, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => RelaySettings.Parse(args)).Message);

    [Fact]
    public void Good_arguments_are_read()
    {
        var writer = WriterSettings.Parse(["--uri-service", "http://u:1", "--formation", "f", "--interval-ms", "20", "--duration-s", "3", "--json"]);
        Assert.Equal(("http://u:1", "f", TimeSpan.FromMilliseconds(20), (TimeSpan?)TimeSpan.FromSeconds(3), true),
            (writer.UriService, writer.Formation, writer.Interval, writer.Duration, writer.Json));
        var relay = RelaySettings.Parse(["--ini", "/etc/pgbouncer/pgbouncer.ini", "--database", "appdb", "--dbname", "app"]);
        Assert.Equal(("/etc/pgbouncer/pgbouncer.ini", "appdb", "app", ""), (relay.Ini, relay.Database, relay.DbName, relay.PidFile));
    }
}
