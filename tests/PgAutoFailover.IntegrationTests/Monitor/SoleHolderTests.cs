using Microsoft.Extensions.Time.Testing;
using PgAutoFailover.Monitor;
using PgAutoFailover.Monitor.Groups;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.IntegrationTests.Monitor;

/// <summary>When a monitor answers a report from its cached group without reading the stream's version first.</summary>
public sealed class SoleHolderTests
{
    private const string Group = "default/0";
    private static readonly int Partition = GroupStream.Partition(Group);
    private readonly FakeTimeProvider _time = new();
    private readonly MonitorServiceOptions _options = new() { PartitionRenewPeriod = TimeSpan.FromMilliseconds(500) };

    [Fact]
    public void Only_the_lone_live_instance_holding_the_partition_at_a_fresh_renewal_skips_the_read()
    {
        var holder = new SoleHolder(_options, _time);
        Assert.False(holder.Holds(Group)); // never renewed

        holder.Renewed(_time.GetTimestamp(), 1, [Partition]);
        Assert.True(holder.Holds(Group));
        Assert.False(holder.Holds(OtherGroup()));

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.True(holder.Holds(Group));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(holder.Holds(Group)); // two renew periods without a renewal: the store may have moved on

        holder.Renewed(_time.GetTimestamp(), 2, [Partition]);
        Assert.False(holder.Holds(Group)); // another live instance

        holder.Renewed(_time.GetTimestamp(), 1, [Partition]);
        holder.Forget();
        Assert.False(holder.Holds(Group)); // letting go on stop
    }

    [Fact]
    public void Freshness_counts_from_when_the_renewal_began_not_when_it_answered()
    {
        var holder = new SoleHolder(_options, _time);
        var began = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(800)); // a slow store
        holder.Renewed(began, 1, [Partition]);
        Assert.True(holder.Holds(Group));
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.False(holder.Holds(Group));
    }

    private static string OtherGroup() =>
        Enumerable.Range(1, 100).Select(g => $"default/{g}").First(key => GroupStream.Partition(key) != Partition);
}
