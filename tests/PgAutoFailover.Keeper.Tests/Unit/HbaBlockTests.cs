using System.Net;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Tests.Unit;

/// <summary>
/// docs/operations.md#host-names-in-pg_hba: a host name in pg_hba costs every connection that reaches its line a reverse
/// DNS lookup, so the block admits the addresses a name resolved to first, and the name only after every address line.
/// </summary>
public sealed class HbaBlockTests
{
    private static readonly HbaBlock.Rule[] Rules =
    [
        new("replication", "pgautofailover_replicator", ["127.0.0.1", "db-b", "10.9.0.0/16"], "scram-sha-256"),
        new("all", "pgautofailover_monitor", ["db-b", "db-c"], "scram-sha-256"),
    ];

    [Fact]
    public void A_resolved_name_is_admitted_by_address_before_any_line_that_names_a_host()
    {
        var book = new HostAddressBook();
        book.Record("db-b", [IPAddress.Parse("10.1.2.3"), IPAddress.Parse("fd00::7")]);

        var lines = HbaBlock.Lines("hostssl", "local   all   postgres   peer map=pgautofailover", Rules, "hostnossl all   all   all   reject", book);

        Assert.Equal("local   all   postgres   peer map=pgautofailover", lines[0]);
        Assert.Equal("hostnossl all   all   all   reject", lines[^1]);
        Assert.Contains("hostssl replication   pgautofailover_replicator   10.1.2.3/32   scram-sha-256", lines);
        Assert.Contains("hostssl replication   pgautofailover_replicator   fd00::7/128   scram-sha-256", lines);
        Assert.Contains("hostssl all   pgautofailover_monitor   10.1.2.3/32   scram-sha-256", lines);
        var firstName = lines.ToList().FindIndex(l => l.Contains(" db-", StringComparison.Ordinal));
        var lastAddress = lines.ToList().FindLastIndex(l => l.Contains("/32", StringComparison.Ordinal) || l.Contains("/128", StringComparison.Ordinal)
            || l.Contains("/16", StringComparison.Ordinal));
        Assert.True(lastAddress < firstName, string.Join("\n", lines));
        // The names stay, after the addresses: a node whose address changed is still admitted while DNS answers.
        Assert.Contains("hostssl replication   pgautofailover_replicator   db-b   scram-sha-256", lines);
        Assert.Contains("hostssl all   pgautofailover_monitor   db-c   scram-sha-256", lines);
    }

    [Fact]
    public void A_name_never_resolved_is_admitted_by_name_alone_and_addresses_and_cidrs_as_given()
    {
        var lines = HbaBlock.Lines("host", "local   all   all   trust", Rules, null, new HostAddressBook());

        Assert.Equal(
        [
            "local   all   all   trust",
            "host    replication   pgautofailover_replicator   127.0.0.1/32   scram-sha-256",
            "host    replication   pgautofailover_replicator   10.9.0.0/16   scram-sha-256",
            "host    replication   pgautofailover_replicator   db-b   scram-sha-256",
            "host    all   pgautofailover_monitor   db-b   scram-sha-256",
            "host    all   pgautofailover_monitor   db-c   scram-sha-256",
        ], lines);
    }

    [Fact]
    public void A_failed_or_empty_lookup_keeps_the_known_addresses_and_only_a_change_moves_the_version()
    {
        var book = new HostAddressBook();
        Assert.True(book.Record("db-b", [IPAddress.Parse("10.1.2.3")]));
        var version = book.Version;

        Assert.False(book.Record("db-b", []));
        Assert.False(book.Record("DB-B", [IPAddress.Parse("10.1.2.3"), IPAddress.Parse("10.1.2.3")]));
        Assert.Equal(version, book.Version);
        Assert.Equal([IPAddress.Parse("10.1.2.3")], book.Addresses("db-b"));

        Assert.True(book.Record("db-b", [IPAddress.Parse("10.1.2.4")]));
        Assert.True(book.Version > version);
        Assert.Equal(["db-b", "db-c"], HbaBlock.Names(["127.0.0.1", "db-b", "10.9.0.0/16", "db-c", "DB-B"]));
    }
}
