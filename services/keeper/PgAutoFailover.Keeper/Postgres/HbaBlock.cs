using System.Net;
using System.Net.Sockets;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>
/// The lines of the keeper's block at the top of pg_hba.conf. A host given by name is written twice: as the addresses
/// it resolved to (<see cref="HostAddressBook"/>), and, after every address line of the block, as the name itself.
/// PostgreSQL matches a name line by a reverse DNS lookup of the client, for every connection that reaches the line
/// whatever its database and user: with slow DNS every connection, replication included, waited on it. Address lines
/// first let every known client match before any lookup; the name lines after them still admit a node whose address
/// changed since (while DNS answers). docs/operations.md#host-names-in-pg_hba.
/// </summary>
public static class HbaBlock
{
    /// <summary>One kind of client: connections to <paramref name="Database"/> as <paramref name="User"/> from each of <paramref name="Hosts"/>.</summary>
    public sealed record Rule(string Database, string User, IEnumerable<string> Hosts, string Method);

    /// <param name="connectionType">host, or hostssl when TLS is on.</param>
    /// <param name="first">The line before all others (the local socket's).</param>
    /// <param name="last">The line after all others, if any (refusing clients without TLS).</param>
    public static IReadOnlyList<string> Lines(string connectionType, string first, IEnumerable<Rule> rules, string? last, HostAddressBook addresses)
    {
        var byAddress = new List<string>();
        var byName = new List<string>();
        foreach (var rule in rules)
        {
            foreach (var host in rule.Hosts.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (Cidr(host) is { } cidr)
                {
                    byAddress.Add(Line(connectionType, rule, cidr));
                    continue;
                }
                byAddress.AddRange(addresses.Addresses(host).Select(a => Line(connectionType, rule, Cidr(a))));
                byName.Add(Line(connectionType, rule, host));
            }
        }
        List<string> lines = [first, .. byAddress.Distinct(), .. byName.Distinct()];
        if (last is not null) lines.Add(last);
        return lines;
    }

    /// <summary>The host names among <paramref name="hosts"/>: what is neither an address nor a CIDR.</summary>
    public static IEnumerable<string> Names(IEnumerable<string> hosts) => hosts.Where(h => Cidr(h) is null).Distinct(StringComparer.OrdinalIgnoreCase);

    private static string Line(string connectionType, Rule rule, string host) =>
        $"{connectionType.PadRight(7)} {rule.Database}   {rule.User}   {host}   {rule.Method}";

    private static string? Cidr(string host) =>
        host.Contains('/') ? host : IPAddress.TryParse(host, out var ip) ? Cidr(ip) : null;

    private static string Cidr(IPAddress ip) => $"{ip}/{(ip.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32)}";
}
