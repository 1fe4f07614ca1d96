using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Whether this instance may trust its cached state of a group without asking the store for the stream's version first
/// (<see cref="MonitorServiceOptions.VerifyStreamVersion"/>): it holds the group's partition, it is the only live
/// monitor, and both were true at a renewal that began less than two renew periods ago (on the monotonic clock). Then no
/// other instance has written the group: another one takes a partition only once it is free (its lease over, or its
/// holder's store session gone), and one that starts is counted at this one's next renewal, before any partition is let
/// go to it. What is left: an instance starting while this one's store session is being replaced (a store restart) may
/// take a partition at once, and for up to two renew periods this one answers that partition's reports from what it
/// holds, as it did before the read existed; what the other instance writes still meets the stream's version check.
/// That read is one store round trip before every keeper report, under the group's gate: at 1,000 nodes on one monitor
/// it doubled the CPU per decision and made a decision wait 150 ms instead of 11 (docs/benchmarks.md).
/// </summary>
public sealed class SoleHolder(MonitorServiceOptions options, TimeProvider time)
{
    private volatile Snapshot? _last;

    /// <summary>Records a renewal that began at <paramref name="startedAt"/> (a <see cref="TimeProvider.GetTimestamp"/>).</summary>
    public void Renewed(long startedAt, int liveInstances, IEnumerable<int> partitions) =>
        _last = new Snapshot(startedAt, liveInstances, [.. partitions]);

    /// <summary>Forgets the last renewal (the partitions are being let go).</summary>
    public void Forget() => _last = null;

    /// <summary>Whether the group whose stream is <paramref name="groupKey"/> is this instance's alone, as of a fresh renewal.</summary>
    public bool Holds(string groupKey) =>
        _last is { LiveInstances: 1 } last
        && time.GetElapsedTime(last.StartedAt) < 2 * options.PartitionRenewPeriod
        && last.Partitions.Contains(GroupStream.Partition(groupKey));

    private sealed record Snapshot(long StartedAt, int LiveInstances, HashSet<int> Partitions);
}
