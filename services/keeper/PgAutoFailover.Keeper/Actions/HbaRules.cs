using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Loop;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Actions;

/// <summary>The keeper's block of pg_hba.conf and pg_ident.conf: who may connect, from which hosts (docs/operations.md#host-names-in-pg_hba).</summary>
public sealed partial class HbaRules(KeeperOptions options, PostgresServer server, PgSql sql, HostAddressBook addresses, ILogger<HbaRules> logger)
{
    // Hosts of the group's nodes as the monitor last listed them (NodeGoal.GroupHosts); admitted beside the configured ones.
    private IReadOnlyList<string> _groupHosts = [];
    // HostAddressBook.Version when pg_hba was last written: a newer one means a name's addresses changed since.
    private long _writtenAddresses;
    private readonly Lock _hbaWrite = new();

    /// <summary>
    /// services/keeper/README.md: every node admits the replication role from every other node of the group. The goal lists their
    /// hosts; when the list changes (a node joined, moved or left) pg_hba.conf is rewritten and PostgreSQL reloaded, so
    /// a new standby can connect before its primary reaches wait_primary. Null (an older monitor): configured hosts only.
    /// A failed reload is logged and tried again next cycle; it never holds up a transition.
    /// </summary>
    /// <remarks>
    /// Also when a host name's addresses changed (<see cref="HostAddressBook"/>, looked up by
    /// <see cref="HostAddressRefresher"/>): the block is written again with them.
    /// </remarks>
    public async Task FollowGroupHostsAsync(NodeGoal? goal, CancellationToken ct)
    {
        var hosts = goal?.GroupHosts ?? _groupHosts; // none listed (an older monitor): the configured hosts only
        var hostsChanged = !hosts.SequenceEqual(_groupHosts, StringComparer.Ordinal);
        if (!hostsChanged && addresses.Version == _writtenAddresses) return;
        var (before, writtenBefore) = (_groupHosts, _writtenAddresses);
        if (server.Files.IsDataDirectory)
        {
            _groupHosts = [.. hosts];
            WriteHba();
            try
            {
                if (server.IsPostmasterAlive()) await sql.ExecuteAsync("SELECT pg_reload_conf()", ct);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or KeeperException or TimeoutException)
            {
                (_groupHosts, _writtenAddresses) = (before, writtenBefore); // written, not yet loaded: again next cycle
                Log.HbaNotReloadedYet(logger, e.Message);
                return;
            }
        }
        _groupHosts = [.. hosts];
        if (hostsChanged)
        {
            Log.HbaAdmitsGroupHosts(logger, string.Join(", ", hosts), before.Count == 0 ? "none listed yet" : string.Join(", ", before));
        }
        else
        {
            Log.HbaAdmitsNewAddresses(logger, string.Join(", ", HbaHostNames()), string.Join("; ", HbaHostNames().Select(n => $"{n} {string.Join(" ", addresses.Addresses(n))}")));
        }
    }

    /// <summary>Every host of the keeper's pg_hba block (this node, the group, health checkers, clients): configured and listed by the monitor.</summary>
    private List<string> HbaHosts(out List<string> group, out IReadOnlyList<string> checkers, out IReadOnlyList<string> clients)
    {
        group = [options.Host, .. options.GroupHosts, .. _groupHosts];
        checkers = options.HealthCheckHosts.Count > 0 ? options.HealthCheckHosts : group;
        clients = options.ClientHosts.Count > 0 ? options.ClientHosts : group;
        return [.. group, .. checkers, .. clients];
    }

    /// <summary>The host names in the keeper's pg_hba block, for <see cref="HostAddressRefresher"/> to look up.</summary>
    public IReadOnlyList<string> HbaHostNames() => [.. HbaBlock.Names(HbaHosts(out _, out _, out _))];

    /// <summary>Writes the block for the hosts known now; PostgreSQL reads it at its next reload.</summary>
    public void WriteHba()
    {
        var method = options.Trust ? "trust" : "scram-sha-256";
        HbaHosts(out var group, out var checkers, out var clients);
        var rules = new List<HbaBlock.Rule>
        {
            new("replication", PgSql.ReplicationUser, group, method),
            new("postgres", PgSql.ReplicationUser, group, method),
            new("all", PgSql.HealthCheckUser, checkers, method),
        };
        // The application role reaches its own database only, always with a password (even when the keeper's roles use trust).
        if (options.ApplicationUser is { Length: > 0 } user)
            rules.Add(new(PgSql.QuoteIdentifier(options.DatabaseName), PgSql.QuoteIdentifier(user), clients, "scram-sha-256"));
        lock (_hbaWrite)
        {
            var version = addresses.Version;
            // hostssl when TLS is on (docs/operations.md#tls): a client without TLS is refused, never sent a password in clear.
            // Below the keeper's lines, initdb's admit loopback clients: with TLS on, none of them without it either.
            server.Files.SetManagedBlock("pg_hba.conf", HbaBlock.Lines(server.Tls.HbaConnectionType,
                options.Trust ? "local   all   all   trust" : "local   all   postgres   peer map=pgautofailover",
                rules, server.Tls.Enabled ? "hostnossl all   all   all   reject" : null, addresses));
            _writtenAddresses = version;
        }
        var keeperUser = Environment.UserName;
        server.Files.SetManagedBlock("pg_ident.conf", [$"pgautofailover   {keeperUser}   postgres", $"pgautofailover   {options.OsUser}   postgres"]);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "pg_hba.conf rewritten for the group's hosts but PostgreSQL did not reload yet: {Error}")]
        public static partial void HbaNotReloadedYet(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Information, Message = "pg_hba.conf admits the group's hosts {Hosts} (before: {Before})")]
        public static partial void HbaAdmitsGroupHosts(ILogger logger, string hosts, string before);

        [LoggerMessage(Level = LogLevel.Information, Message = "pg_hba.conf admits the addresses of {Names} now: {Addresses}")]
        public static partial void HbaAdmitsNewAddresses(ILogger logger, string names, string addresses);
    }
}
