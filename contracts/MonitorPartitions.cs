using System.Globalization;
using System.Text;

namespace PgAutoFailover.Contracts;

/// <summary>
/// How the groups are spread over the monitor instances (docs/architecture.md#groups-spread-over-monitors): each group
/// belongs to one of <see cref="Count"/> partitions, a keeper's report and a probe travel with their partition as
/// routing key through <see cref="Exchange"/> to that partition's queue, and each partition's queue is consumed by the
/// one monitor holding it. Every process must agree on <see cref="Count"/> and on <see cref="Of"/>: both are part of the
/// wire protocol.
/// </summary>
public static class MonitorPartitions
{
    /// <summary>Partitions in all: enough for a dozen monitors to share them evenly, few enough to be cheap for one.</summary>
    public const int Count = 16;

    /// <summary>The direct exchange, bound from the report and probe exchanges, that routes by partition.</summary>
    public const string Exchange = "pgaf-monitor-partitions";

    /// <summary>The partition of the group <paramref name="groupId"/> of <paramref name="formation"/>: FNV-1a of its stream name.</summary>
    public static int Of(string formation, int groupId)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes($"{formation}/{groupId.ToString(CultureInfo.InvariantCulture)}"))
        {
            hash = unchecked((hash ^ b) * 16777619u);
        }
        return (int)(hash % Count);
    }

    /// <summary>The routing key a report or probe of that group is published with.</summary>
    public static string RoutingKey(string formation, int groupId) => Of(formation, groupId).ToString(CultureInfo.InvariantCulture);

    /// <summary>The queue (and MassTransit's exchange of the same name) of partition <paramref name="partition"/>.</summary>
    public static string Queue(int partition) => $"monitor-partition-{partition.ToString(CultureInfo.InvariantCulture)}";
}
