using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>Bad input becomes a refusal value, never an exception, and a refusal changes nothing.</summary>
public class BadInputTests
{
    [Fact]
    public void Report_from_an_unknown_node_is_refused()
    {
        new G().Node(1, Primary).Do(new ReportTrigger(9, Secondary, true, 1, 1, "", 1))
            .Refused(RefusalKind.UnknownNode, "node 9 is not registered");
    }

    [Fact]
    public void Duplicated_report_is_refused()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var report = new ReportTrigger(2, Secondary, true, 1, 0x3000000, "", 5);
        Assert.True(g.Do(report).Accepted);
        g.Do(report).Refused(RefusalKind.StaleReport, "duplicate or out of order");
    }

    [Fact]
    public void Out_of_order_report_is_refused()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        Assert.True(g.Do(new ReportTrigger(2, Secondary, true, 1, 0x3000000, "", 7)).Accepted);
        g.Do(new ReportTrigger(2, CatchingUp, true, 1, 0x2000000, "", 6)).Refused(RefusalKind.StaleReport, "#6");
        Assert.Equal(Secondary, g[2].ReportedState);
    }

    [Fact]
    public void A_forged_far_future_sequence_silences_the_node_only_until_its_next_epoch()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        Assert.True(g.Do(new ReportTrigger(2, Secondary, true, 1, 0x3000000, "", 7, Epoch: 3)).Accepted);
        Assert.True(g.Do(new ReportTrigger(2, Secondary, true, 1, 0x3000000, "", long.MaxValue, Epoch: 3)).Accepted);
        g.Do(new ReportTrigger(2, Secondary, true, 1, 0x3000000, "", 8, Epoch: 3)).Refused(RefusalKind.StaleReport, "#8 of epoch 3");
        Assert.True(g.Do(new ReportTrigger(2, CatchingUp, true, 1, 0x3000000, "", 9, Epoch: 4)).Accepted);
        Assert.Equal(CatchingUp, g[2].ReportedState);
        Assert.Equal((4, 9), (g[2].LastReportEpoch, g[2].LastReportSequence));
    }

    [Fact]
    public void A_report_of_an_earlier_keeper_run_is_refused_whatever_its_sequence()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        Assert.True(g.Do(new ReportTrigger(2, Secondary, true, 1, 0x3000000, "", 7, Epoch: 5)).Accepted);
        g.Do(new ReportTrigger(2, CatchingUp, true, 1, 0x2000000, "", 100, Epoch: 4))
            .Refused(RefusalKind.StaleReport, "earlier keeper run (epoch 4; last accepted report: #7 of epoch 5)");
        Assert.Equal(Secondary, g[2].ReportedState);
    }

    [Fact]
    public void An_epoch_far_ahead_is_refused_so_a_forged_one_cannot_run_the_counter_out()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        Assert.True(g.Do(new ReportTrigger(2, Secondary, true, 1, 0x3000000, "", 7, Epoch: 5)).Accepted);
        g.Do(new ReportTrigger(2, Secondary, true, 1, 0x3000000, "", 8, Epoch: 5 + ReportOrder.MaxEpochStep + 1))
            .Refused(RefusalKind.StaleReport, "more than 1000 at once");
        Assert.True(g.Do(new ReportTrigger(2, Secondary, true, 1, 0x3000000, "", 9, Epoch: 5 + ReportOrder.MaxEpochStep)).Accepted);
    }

    [Theory]
    [InlineData(2, 7, true, false)]
    [InlineData(2, 6, false, false)]
    [InlineData(2, 8, false, true)]
    [InlineData(3, 1, false, true)]
    [InlineData(1, 9, false, false)]
    public void Report_order_is_by_epoch_then_sequence(long epoch, long sequence, bool lastAccepted, bool after)
    {
        var node = new Model.MonitorNode
        {
            NodeId = 2, Name = "node_2", Host = "h", Port = 5432, StateChangedAt = DateTimeOffset.UnixEpoch,
            LastReportEpoch = 2, LastReportSequence = 7,
        };
        Assert.Equal(lastAccepted, ReportOrder.IsLastAccepted(node, epoch, sequence));
        Assert.Equal(after, ReportOrder.IsAfterLast(node, epoch, sequence));
        Assert.Equal(after, ReportOrder.Check(node, epoch, sequence) is null);
    }

    [Fact]
    public void Report_from_a_removed_node_is_refused()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary, Dropped);
        g.Report(2, Dropped, pgIsRunning: false);
        g.Do(new ReportTrigger(2, Dropped, false, 1, 0, "", 99_999)).Refused(RefusalKind.UnknownNode, "may have been removed");
    }

    [Fact]
    public void Report_from_a_node_being_dropped_is_answered_with_dropped()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary, Dropped);
        g.Report(2).AssignsNothing();
        Assert.Equal(Dropped, MonitorCore.GoalFor(g.State, 2)!.GoalState);
    }

    [Theory]
    [InlineData(Secondary, Unknown, "unknown is not a keeper state")]
    [InlineData(Secondary, Init, "cannot return to init")]
    [InlineData(Secondary, Dropped, "was not asked to drop")]
    [InlineData(Secondary, Primary, "never promotes itself")]
    [InlineData(CatchingUp, WaitPrimary, "never promotes itself")]
    public void Impossible_state_pairs_are_refused(NodeState goal, NodeState reported, string reason)
    {
        var g = new G().Node(1, Primary).Node(2, goal);
        var before = g.State;
        g.Report(2, reported).Refused(RefusalKind.ImpossibleState, reason);
        Assert.Same(before, g.State);
    }

    [Fact]
    public void A_late_report_of_a_writable_state_once_assigned_is_accepted()
    {
        // The node was told single, reached it, the report was lost, then the operator dropped it.
        var g = new G().Node(1, Init, Dropped).With(1, n => n with { EverAssignedWritable = true });
        Assert.True(g.Report(1, NodeState.Single).Accepted);
    }

    [Fact]
    public void Probe_of_an_unknown_node_is_refused()
    {
        new G().Do(new ProbeTrigger(4, false, "timeout")).Refused(RefusalKind.UnknownNode, "node 4");
    }

    [Fact]
    public void Operator_commands_on_unknown_nodes_are_refused()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        foreach (var command in new Trigger[]
                 {
                     new PromotionCommand(8), new EnableMaintenanceCommand(8), new DisableMaintenanceCommand(8),
                     new SetCandidatePriorityCommand(8, 10), new SetReplicationQuorumCommand(8, false), new DropNodeCommand(8), new UpdateNodeMetadataCommand(8, "x"),
                 })
        {
            g.Do(command).Refused(RefusalKind.UnknownNode, "node 8");
        }
    }

    [Fact]
    public void Unknown_trigger_type_is_refused_not_thrown()
    {
        var d = new MonitorCore().Decide(new G().State, new StrangeTrigger(), G.Now);
        Assert.Equal(RefusalKind.InternalError, d.Refusal!.Kind);
    }

    [Fact]
    public void Empty_group_reports_and_commands_are_refused_not_thrown()
    {
        var g = new G();
        g.Do(new ReportTrigger(1, Primary, true, 1, 1, "", 1)).Refused(RefusalKind.UnknownNode, "node 1");
        Assert.False(g.Do(new FailoverCommand()).Accepted);
        Assert.False(g.Do(new SetNumberSyncStandbysCommand(1)).Accepted);
        Assert.True(g.Do(new TimerTrigger()).Accepted);
    }

    private sealed record StrangeTrigger : Trigger;
}
