using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;

namespace PgAutoFailover.Keeper.Tests.Unit;

/// <summary>
/// <see cref="KeeperCore"/> over every (current, goal) pair of node states, with and without a lease, a running
/// PostgreSQL and a recent word from the monitor: what the actor does is readable from these cases alone.
/// </summary>
public sealed class KeeperCoreTests
{
    private const long Now = 1_000_000;
    private const long Valid = Now + 1;   // a lease that runs out after now
    private const long Expired = Now;     // a lease that ran out at now

    private static readonly NodeState[] States = Enum.GetValues<NodeState>();

    private static ActorInput Input(NodeState current, NodeState goal, bool confirmed = true, bool reached = true, bool running = true,
        long? lease = Valid, bool exitWhenConverged = false) =>
        new(current, goal, confirmed, reached, running, Now, lease, exitWhenConverged);

    private static IEnumerable<(NodeState From, NodeState To)> AllPairs() =>
        from a in States from b in States select (a, b);

    [Fact]
    public void Nothing_happens_before_the_monitor_has_spoken_in_this_process()
    {
        foreach (var (from, to) in AllPairs())
        {
            foreach (var running in new[] { true, false })
            {
                var step = KeeperCore.Next(Input(from, to, confirmed: false, running: running));
                Assert.Equal(ActorStepKind.Wait, step.Kind);
            }
        }
    }

    [Fact]
    public void Every_pair_with_a_row_runs_that_row_when_the_lease_is_held()
    {
        var pairsWithRows = 0;
        foreach (var (from, to) in AllPairs().Where(p => p.From != p.To))
        {
            var step = KeeperCore.Next(Input(from, to));
            var row = TransitionTable.Find(from, to);
            if (row is null)
            {
                Assert.Equal(ActorStepKind.Unknown, step.Kind);
                Assert.Equal($"keeper does not know how to reach state \"{KeeperStates.Name(to)}\" from \"{KeeperStates.Name(from)}\"", step.Reason);
                continue;
            }
            pairsWithRows++;
            Assert.Equal(ActorStepKind.Transition, step.Kind);
            Assert.Same(row, step.Row);
        }
        // Every explicit row, and the wildcard "any -> dropped" for each state but dropped itself.
        var explicitRows = TransitionTable.Rows.Count(r => r.From is not null);
        var wildcard = States.Count(s => s != NodeState.Dropped && TransitionTable.Rows.All(r => r.From != s || r.To != NodeState.Dropped));
        Assert.Equal(explicitRows + wildcard, pairsWithRows);
    }

    [Fact]
    public void Becoming_writable_waits_for_a_lease_and_nothing_else_does()
    {
        foreach (var row in TransitionTable.Rows)
        {
            foreach (var from in row.From is { } f ? [f] : States.Where(s => s != row.To && TransitionTable.Find(s, row.To) == row))
            {
                foreach (var lease in new long?[] { null, Expired })
                {
                    var step = KeeperCore.Next(Input(from, row.To, lease: lease));
                    var gainsWrites = KeeperStates.IsWritable(row.To) && !KeeperStates.IsWritable(from);
                    Assert.Equal(gainsWrites ? ActorStepKind.WaitForLease : ActorStepKind.Transition, step.Kind);
                }
            }
        }
    }

    [Theory]
    [InlineData(NodeState.PreparePromotion, NodeState.WaitPrimary)]   // K54 promote
    [InlineData(NodeState.StopReplication, NodeState.WaitPrimary)]    // K53 take writes after the fence
    [InlineData(NodeState.DemoteTimeout, NodeState.Primary)]          // K36 self-fenced primary resumes
    [InlineData(NodeState.Demoted, NodeState.Single)]                 // K37
    [InlineData(NodeState.Init, NodeState.Single)]                    // K1
    public void The_promotions_of_the_spec_need_a_lease(NodeState from, NodeState to)
    {
        Assert.Equal(ActorStepKind.WaitForLease, KeeperCore.Next(Input(from, to, lease: null)).Kind);
        Assert.Equal(ActorStepKind.Transition, KeeperCore.Next(Input(from, to, lease: Valid)).Kind);
    }

    [Fact]
    public void Converged_the_keeper_checks_only_while_the_monitor_answers()
    {
        foreach (var state in States)
        {
            Assert.Equal(ActorStepKind.Wait, KeeperCore.Next(Input(state, state, reached: false)).Kind);
            var step = KeeperCore.Next(Input(state, state));
            Assert.Equal(ActorStepKind.Check, step.Kind);
            Assert.False(step.RestartsWriter);
        }
    }

    [Fact]
    public void A_writer_whose_postgres_is_down_restarts_it_only_with_a_lease()
    {
        foreach (var state in States)
        {
            var withLease = KeeperCore.Next(Input(state, state, running: false, lease: Valid));
            var without = KeeperCore.Next(Input(state, state, running: false, lease: Expired));
            if (KeeperStates.IsWritable(state))
            {
                Assert.Equal(ActorStepKind.Check, withLease.Kind);
                Assert.True(withLease.RestartsWriter);
                Assert.Equal(ActorStepKind.WaitForLease, without.Kind);
            }
            else
            {
                Assert.Equal(ActorStepKind.Check, without.Kind);
                Assert.False(without.RestartsWriter);
            }
        }
    }

    [Fact]
    public void Create_finishes_at_its_first_goal_even_without_the_monitor()
    {
        var step = KeeperCore.Next(Input(NodeState.Secondary, NodeState.Secondary, reached: false, exitWhenConverged: true));
        Assert.Equal(ActorStepKind.FinishCreate, step.Kind);
        Assert.Equal(ActorStepKind.Transition, KeeperCore.Next(Input(NodeState.WaitStandby, NodeState.CatchingUp, exitWhenConverged: true)).Kind);
    }

    [Theory]
    [InlineData(NodeState.Primary, 1500, 5000, 500)]      // a writer renews every third of its lease
    [InlineData(NodeState.WaitPrimary, 1500, 5000, 500)]
    [InlineData(NodeState.Single, 30_000, 1000, 1000)]    // a long lease: the loop period is sooner
    [InlineData(NodeState.Secondary, 1500, 5000, 5000)]   // not a writer: the loop period
    [InlineData(NodeState.Demoted, 1500, 200, 200)]
    public void Reports_come_every_third_of_the_lease_on_a_writer(NodeState state, int leaseMs, int loopMs, int expectedMs)
    {
        var period = KeeperCore.ReportPeriod(state, TimeSpan.FromMilliseconds(leaseMs), TimeSpan.FromMilliseconds(loopMs));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), period);
    }

    [Theory]
    [InlineData(null, true, false)]   // the first sample is no change
    [InlineData(null, false, false)]
    [InlineData(true, true, false)]
    [InlineData(true, false, true)]   // lost the primary: report now
    [InlineData(false, true, true)]   // streaming again: report now
    public void A_standby_reports_when_its_receiver_changes(bool? was, bool now, bool reportNow) =>
        Assert.Equal(reportNow, KeeperCore.ReportReceiverChange(was, now));

    [Theory]
    [InlineData(null, null, false)]      // nothing was waiting, nothing waits
    [InlineData(null, 3000, false)]      // a stall begins: the report at the end of the period says so
    [InlineData(100, null, false)]       // a healthy synchronous standby's milliseconds: no extra report
    [InlineData(499, null, false)]
    [InlineData(500, null, true)]        // the monitor may be holding a standby back: report now
    [InlineData(2500, null, true)]
    [InlineData(2500, 200, true)]        // acknowledged again, newer WAL pending for a moment
    [InlineData(2500, 500, false)]       // still waiting as long: nothing to tell yet
    [InlineData(2500, 4000, false)]
    public void A_writer_reports_when_its_wal_is_acknowledged_again_after_a_stall(int? reportedMs, int? currentMs, bool reportNow) =>
        Assert.Equal(reportNow, KeeperCore.ReportAcknowledgementsResumed(Ms(reportedMs), Ms(currentMs)));

    private static TimeSpan? Ms(int? milliseconds) => milliseconds is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

    [Theory]
    [InlineData(NodeState.Secondary, NodeState.Secondary, true, false, GoalIntake.TakeAndWake)]
    [InlineData(NodeState.Secondary, NodeState.Secondary, false, false, GoalIntake.Take)]
    [InlineData(NodeState.Secondary, NodeState.PreparePromotion, false, false, GoalIntake.TakeChanged)]
    [InlineData(NodeState.Secondary, NodeState.PreparePromotion, true, false, GoalIntake.TakeChanged)]
    [InlineData(NodeState.Secondary, NodeState.PreparePromotion, false, true, GoalIntake.Ignore)]
    [InlineData(NodeState.Secondary, NodeState.Secondary, true, true, GoalIntake.Ignore)]
    public void A_goal_in_a_superseded_reply_is_not_taken(NodeState held, NodeState goal, bool firstWord, bool superseded, GoalIntake expected) =>
        Assert.Equal(expected, KeeperCore.TakeGoal(held, goal, firstWord, superseded));
}
