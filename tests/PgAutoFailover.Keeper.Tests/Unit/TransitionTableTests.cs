using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;

namespace PgAutoFailover.Keeper.Tests.Unit;

public sealed class TransitionTableTests
{
    [Fact]
    public void Every_row_of_the_spec_table_is_present_once()
    {
        var ids = TransitionTable.Rows.Select(r => r.Id).ToList();
        for (var k = 1; k <= 77; k++) Assert.Contains($"K{k}", ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var pairs = TransitionTable.Rows.Select(r => (r.From, r.To)).ToList();
        Assert.Equal(pairs.Count, pairs.Distinct().Count());
    }

    public static TheoryData<NodeState, NodeState, string> SpecRows => new()
    {
        { NodeState.Init, NodeState.Single, "InitPrimary" },
        { NodeState.WaitStandby, NodeState.CatchingUp, "InitStandby" },
        { NodeState.CatchingUp, NodeState.Secondary, "PrepareForSecondary" },
        { NodeState.Single, NodeState.WaitPrimary, "PrepareReplication" },
        { NodeState.WaitPrimary, NodeState.Primary, "EnableSyncRep" },
        { NodeState.Primary, NodeState.WaitPrimary, "DisableSyncRep" },
        { NodeState.Secondary, NodeState.PreparePromotion, "PrepareStandbyForPromotion" },
        { NodeState.PreparePromotion, NodeState.StopReplication, "StopReplication" },
        { NodeState.StopReplication, NodeState.WaitPrimary, "ResumeWrites" },
        { NodeState.Primary, NodeState.Draining, "StopPostgres" },
        { NodeState.Draining, NodeState.Demoted, "StopPostgres" },
        { NodeState.DemoteTimeout, NodeState.Primary, "StartPostgresAndApplySettings" },
        { NodeState.Demoted, NodeState.CatchingUp, "RewindOrInit" },
        { NodeState.Secondary, NodeState.Maintenance, "StartMaintenanceOnStandby" },
        { NodeState.PrepareMaintenance, NodeState.Maintenance, "StopPostgresAndSetupStandby" },
        { NodeState.Demoted, NodeState.ReportLsn, "ReportLsn+DropAllSlots" },
        { NodeState.ReportLsn, NodeState.FastForward, "FastForward" },
        { NodeState.FastForward, NodeState.PreparePromotion, "CleanupAsPrimary" },
        { NodeState.ReportLsn, NodeState.JoinSecondary, "CheckpointAndStopPostgres" },
        { NodeState.JoinSecondary, NodeState.Secondary, "FollowNewPrimary" },
        { NodeState.Secondary, NodeState.Dropped, "DropNode" },
    };

    [Theory]
    [MemberData(nameof(SpecRows))]
    public void Lookup_gives_the_specified_plan(NodeState from, NodeState to, string plan)
    {
        var row = TransitionTable.Find(from, to);
        Assert.NotNull(row);
        Assert.Equal(plan, string.Join('+', row.Plan));
    }

    [Fact]
    public void Every_state_can_be_stopped_by_the_monitor()
    {
        foreach (var from in Enum.GetValues<NodeState>().Where(s => s is not (NodeState.Unknown or NodeState.Dropped)))
        {
            foreach (var to in new[] { NodeState.Demoted, NodeState.DemoteTimeout })
            {
                if (from == to) continue;
                var row = TransitionTable.Find(from, to);
                Assert.True(row is not null, $"no edge {from} -> {to}");
                Assert.Contains(KeeperAction.StopPostgres, row.Plan);
            }
        }
    }

    [Fact]
    public void Unknown_pairs_and_self_loops_have_no_transition()
    {
        Assert.Null(TransitionTable.Find(NodeState.Single, NodeState.Secondary));
        Assert.Null(TransitionTable.Find(NodeState.WaitStandby, NodeState.Primary));
        Assert.Null(TransitionTable.Find(NodeState.Primary, NodeState.Primary));
    }

    [Fact]
    public void No_transition_makes_a_standby_writable_without_promoting_it()
    {
        foreach (var row in TransitionTable.Rows.Where(r => r.From is { } f && !KeeperStates.IsWritable(f) && KeeperStates.IsWritable(r.To)))
        {
            var starts = row.Plan.Intersect([KeeperAction.InitPrimary, KeeperAction.PromoteStandby, KeeperAction.ResumeAsPrimary,
                KeeperAction.ResumeWrites, KeeperAction.StartPostgresAndApplySettings, KeeperAction.PrepareReplication]).Any();
            Assert.True(starts, $"{row} reaches a writable state without an action that makes PostgreSQL writable");
        }
    }
}
