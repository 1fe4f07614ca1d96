using PgAutoFailover.Monitor.Core.Partitions;

namespace PgAutoFailover.Monitor.Core.Tests;

public class PartitionShareTests
{
    [Theory]
    [InlineData(16, 1, 16)]
    [InlineData(16, 2, 8)]
    [InlineData(16, 3, 6)]
    [InlineData(16, 5, 4)]
    [InlineData(16, 16, 1)]
    [InlineData(16, 40, 1)]
    [InlineData(16, 0, 16)] // the count read before this instance's row counted: treated as alone
    public void The_fair_share_rounds_up_so_the_live_instances_together_aim_at_every_partition(int partitions, int live, int share)
    {
        Assert.Equal(share, PartitionShare.FairShare(partitions, live));
        Assert.True(share * Math.Max(1, live) >= partitions);
    }

    [Fact]
    public void An_instance_over_its_share_lets_the_highest_go_and_takes_none()
    {
        var plan = PartitionShare.Plan([3, 0, 9, 12, 5, 1], partitions: 16, liveInstances: 4);
        Assert.Equal([9, 12], plan.Release);
        Assert.Equal(0, plan.Take);
    }

    [Fact]
    public void An_instance_under_its_share_takes_the_difference_and_lets_none_go()
    {
        var plan = PartitionShare.Plan([2], partitions: 16, liveInstances: 3);
        Assert.Empty(plan.Release);
        Assert.Equal(5, plan.Take);
    }

    [Fact]
    public void An_instance_alone_takes_every_partition()
    {
        var plan = PartitionShare.Plan([], partitions: 16, liveInstances: 1);
        Assert.Equal(16, plan.Take);
    }

    [Fact]
    public void Instances_that_start_together_hold_every_partition_none_above_its_share()
    {
        // Three instances rebalancing in turn, each taking the lowest free partitions (the store takes them at random).
        var held = new List<int>[] { [], [], [] };
        for (var round = 0; round < 4; round++)
        {
            foreach (var mine in held)
            {
                var plan = PartitionShare.Plan(mine, 16, held.Length);
                mine.RemoveAll(plan.Release.Contains);
                var free = Enumerable.Range(0, 16).Except(held.SelectMany(h => h)).Take(plan.Take).ToList();
                mine.AddRange(free);
            }
        }
        Assert.Equal(16, held.Sum(h => h.Count));
        Assert.Equal(16, held.SelectMany(h => h).Distinct().Count());
        // 6, 6 and 4: the share is rounded up, so the last to take finds fewer left; none holds more than 6 of 16.
        Assert.All(held, h => Assert.InRange(h.Count, 4, PartitionShare.FairShare(16, 3)));
    }
}
