using PgAutoFailover.Contracts;

namespace PgAutoFailover.Monitor.Store;

/// <summary>Names of the per-group event streams.</summary>
public static class GroupStream
{
    public static string Key(string formation, int groupId) => $"{formation}/{groupId}";

    public static string FormationPrefix(string formation) => $"{formation}/";

    /// <summary>The partition of the group whose stream is <paramref name="key"/> (docs/architecture.md#groups-spread-over-monitors).</summary>
    public static int Partition(string key)
    {
        var slash = key.LastIndexOf('/');
        return MonitorPartitions.Of(key[..slash], int.Parse(key.AsSpan(slash + 1), System.Globalization.CultureInfo.InvariantCulture));
    }
}
