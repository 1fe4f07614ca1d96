using System.Collections.Concurrent;
using System.Net;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>
/// The addresses that the host names in the keeper's pg_hba block resolve to: looked up away from every transition
/// (<see cref="Loop.HostAddressRefresher"/>) and read without waiting when pg_hba is written (<see cref="HbaBlock"/>).
/// A lookup that fails or finds nothing keeps the addresses known before, so a DNS outage changes nothing.
/// docs/operations.md#host-names-in-pg_hba.
/// </summary>
public sealed class HostAddressBook
{
    private readonly ConcurrentDictionary<string, IPAddress[]> _known = new(StringComparer.OrdinalIgnoreCase);
    private long _version;

    /// <summary>Changes whenever a name's addresses change; pg_hba is written again when it differs from the last write's.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>The addresses last found for <paramref name="name"/>; none when it was never resolved.</summary>
    public IReadOnlyList<IPAddress> Addresses(string name) => _known.TryGetValue(name, out var known) ? known : [];

    /// <summary>Keeps a lookup's answer; true when it differs from what was known. An empty answer is ignored.</summary>
    public bool Record(string name, IEnumerable<IPAddress> found)
    {
        var addresses = found.Distinct().OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
        if (addresses.Length == 0 || Addresses(name).SequenceEqual(addresses)) return false;
        _known[name] = addresses;
        Interlocked.Increment(ref _version);
        return true;
    }
}
