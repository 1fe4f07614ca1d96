using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// What makes a crash fail over in about two seconds, keeper side: a standby reports the moment its WAL receiver
/// stops (not at its next period), a writer renews its lease every third of it, and a promotion that waited for a
/// lease goes on as soon as a reply brings one. The loop period is set to a minute here, so each behaviour is seen
/// well before any periodic report or retry could have produced it.
/// </summary>
public sealed class PromptReportTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan LongPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan WellWithinThePeriod = TimeSpan.FromSeconds(30);

    private static async Task SlowDownAsync(KeeperNode node)
    {
        node.Configure("Keeper:LoopPeriod", LongPeriod.ToString());
        await node.Loop.ReloadAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1)); // let the wait that began with the old period end
    }

    [Fact]
    public async Task A_standby_whose_primary_dies_reports_disconnected_at_once()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var (primary, _, standby, b) = await group.PairAsync();
            await Eventually.TrueAsync(() => Task.FromResult(group.Monitor.LastReport(b)?.ReplicationState == "streaming"), "the standby to report streaming");
            await SlowDownAsync(standby);
            var before = group.Monitor.Reports(b).Count;

            await primary.KillPostgresAsync();

            var report = await Eventually.ValueAsync(
                () => Task.FromResult(group.Monitor.Reports(b).Skip(before).FirstOrDefault(r => r.ReplicationState == "disconnected")),
                "the standby to report its WAL receiver disconnected", WellWithinThePeriod);
            Assert.Equal(NodeState.Secondary, report.CurrentState);
            Assert.Contains(standby.Log.Lines, l => l.Contains("WAL receiver stopped streaming: reporting now"));
        });
    }

    [Fact]
    public async Task A_primary_renews_its_lease_every_third_of_it_whatever_its_loop_period()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        group.Monitor.LeaseDuration = TimeSpan.FromSeconds(3);
        await group.WithLogsAsync(async () =>
        {
            var (node, id) = await group.SingleAsync();
            await SlowDownAsync(node);
            var before = group.Monitor.Reports(id).Count;

            // A report every second (3 s / 3), not every minute: five of them well within the period.
            await Eventually.TrueAsync(() => Task.FromResult(group.Monitor.Reports(id).Count >= before + 5),
                "five lease renewals", WellWithinThePeriod);
            Assert.True(await node.AcceptsQueriesAsync());
        });
    }

    [Fact]
    public async Task A_promotion_pushed_without_a_lease_takes_writes_as_soon_as_a_reply_brings_one()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var monitor = group.Monitor;
            var (_, a, standby, b) = await group.PairAsync();
            await monitor.ReachAsync(a, NodeState.Draining);
            await monitor.ReachAsync(b, NodeState.PreparePromotion);
            await monitor.ReachAsync(b, NodeState.StopReplication);
            await monitor.ReachAsync(a, NodeState.Demoted);
            await SlowDownAsync(standby);

            // The push carries no lease (as the monitor's timer-made decisions): the keeper asks for one with a
            // report, and the reply's lease must restart the promotion, not the next loop period.
            monitor.PrimaryNodeId = b;
            await monitor.AssignAsync(b, NodeState.WaitPrimary);
            await monitor.WaitForStateAsync(b, NodeState.WaitPrimary, WellWithinThePeriod);
            Assert.Contains(standby.Log.Lines, l => l.Contains("waiting for a primary lease"));
            await standby.ExecuteAsync("CREATE TABLE promoted (id int)");
        });
    }
}
