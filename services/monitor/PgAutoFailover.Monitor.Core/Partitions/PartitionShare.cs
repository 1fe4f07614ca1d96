namespace PgAutoFailover.Monitor.Core.Partitions;

/// <summary>
/// Which partitions a monitor instance should hold, given what it holds and how many instances are alive
/// (docs/architecture.md#groups-spread-over-monitors). Each aims at its fair share, the partitions divided by the live
/// instances and rounded up, so the instances together always aim at every partition: one that holds more lets the
/// surplus go, one that holds fewer takes free ones. The ownership itself is in the store; this only plans.
/// </summary>
public static class PartitionShare
{
    /// <summary>How many of <paramref name="partitions"/> one of <paramref name="liveInstances"/> instances holds at most.</summary>
    public static int FairShare(int partitions, int liveInstances) =>
        (partitions + Math.Max(1, liveInstances) - 1) / Math.Max(1, liveInstances);

    /// <summary>
    /// The partitions to let go (the highest-numbered beyond the fair share) and how many free ones to take.
    /// </summary>
    public static PartitionPlan Plan(IReadOnlyCollection<int> held, int partitions, int liveInstances)
    {
        var share = FairShare(partitions, liveInstances);
        var release = held.Count > share ? held.Order().Skip(share).ToArray() : [];
        return new PartitionPlan(release, Math.Max(0, share - held.Count));
    }
}

/// <summary>What <see cref="PartitionShare.Plan"/> asks of an instance: partitions to let go, and how many free ones to take.</summary>
public sealed record PartitionPlan(IReadOnlyList<int> Release, int Take);
