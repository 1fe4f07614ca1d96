using System.Text;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Groups;
using PgAutoFailover.Monitor.Store;
using PgAutoFailover.Testing;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.IntegrationTests.Monitor;

/// <summary>The monitor over the real broker with a real PostgreSQL store; the test plays the keepers and the operator.</summary>
public sealed class MonitorProtocolTests(RabbitMqFixture broker) : MonitorTestBed(broker), IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task A_primary_and_a_standby_register_and_bootstrap_to_primary_and_secondary()
    {
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings);
        var (a, b) = await BootstrapAsync(h);

        var state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
        Assert.Equal([(a.NodeId, Primary, Primary), (b.NodeId, Secondary, Secondary)],
            state.Nodes.Select(n => (n.Node.NodeId, n.ReportedState, n.GoalState)));

        var settings = await h.RequestAsync<GetSettings, FormationSettings>(new GetSettings("default"));
        Assert.Contains(settings.Settings, s => s.Setting == "synchronous_standby_names" && s.Value == $"'ANY 1 (pgautofailover_standby_{b.NodeId})'");

        var events = await h.RequestAsync<GetEvents, FormationEvents>(new GetEvents("default", null, 50));
        Assert.Contains(events.Events, e => e.NodeId == a.NodeId && e.Description.Contains("Registering node"));
        Assert.Contains(events.Events, e => e.NodeId == b.NodeId && e.GoalState == Secondary);

        // Published for ops and the other services.
        await Eventually.TrueAsync(() => Task.FromResult(h.Published.Of<GoalStateAssigned>().Any(g => g.Node.NodeId == a.NodeId && g.GoalState == Primary)),
            "GoalStateAssigned primary");
        await Eventually.TrueAsync(() => Task.FromResult(h.Published.Of<FormationTopologyChanged>().Any(t => t.Nodes.Count == 2)),
            "a topology snapshot with both nodes");
        var versions = h.Published.Of<FormationTopologyChanged>().Select(t => t.Version).ToList();
        Assert.Equal(versions.Distinct().Count(), versions.Count);
    }

    [Fact]
    public async Task Goals_reach_the_keepers_own_queue_the_moment_they_change()
    {
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings);
        var a = Assert.IsType<NodeRegistered>(await h.RegisterAsync("default", 6001, "a")).Node;
        var assigned = new List<AssignGoalState>();
        var keeperQueue = h.Bus is IBusControl control
            ? control.ConnectReceiveEndpoint($"keeper-node-{a.NodeId}", e =>
            {
                // As the keeper declares its goal queue: a quorum queue (docs/operations.md#a-broker-cluster).
                if (e is IRabbitMqReceiveEndpointConfigurator rabbit) rabbit.SetQuorumQueue();
                e.Handler<AssignGoalState>(c => { lock (assigned) assigned.Add(c.Message); return Task.CompletedTask; });
            })
            : throw new InvalidOperationException();
        await keeperQueue.Ready;

        Assert.IsType<NodeGoal>(await h.ReportAsync(a, NodeState.Single, 1));
        var b = Assert.IsType<NodeRegistered>(await h.RegisterAsync("default", 6002, "b")).Node;
        await h.ReportAsync(b, WaitStandby, 1);
        Assert.IsType<NodeGoal>(await h.ReportAsync(a, NodeState.Single, 2));

        var pushed = await Eventually.ValueAsync(() =>
        {
            lock (assigned) return Task.FromResult(assigned.FirstOrDefault(g => g.Goal.GoalState == WaitPrimary));
        }, "AssignGoalState wait_primary on the keeper's queue");
        Assert.Equal(a.NodeId, pushed.Goal.NodeId);
        Assert.True(pushed.GroupVersion > 0);
        Assert.False(string.IsNullOrWhiteSpace(pushed.Description));
    }

    [Fact]
    public async Task A_dead_primary_fails_over_on_the_timer_and_a_restarted_monitor_finishes_the_failover()
    {
        var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings);
        try
        {
            var (a, b) = await BootstrapAsync(h);
            long seq = 100;

            // The primary's host dies: its keeper goes silent and the probes fail. Only the standby reports.
            var candidate = await Eventually.ValueAsync(async () =>
            {
                await h.Bus.Publish(Probe(a, ok: false));
                var goal = Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq));
                return goal.GoalState == PreparePromotion ? goal : null;
            }, "the standby's goal to become prepare_promotion", TimeSpan.FromSeconds(90));
            Assert.Equal(b.NodeId, candidate.NodeId);
            await Eventually.TrueAsync(() => Task.FromResult(h.Published.Of<FailoverStarted>().Any(f => f.OldPrimary?.NodeId == a.NodeId)),
                "FailoverStarted for the old primary");

            // The monitor restarts mid-failover; a new instance rebuilds the group from its stream.
            await h.StopMonitorAsync(h.Monitor);
            await h.StartMonitorAsync(FastSettings);

            var goalAfterRestart = Assert.IsType<NodeGoal>(await h.ReportAsync(b, PreparePromotion, ++seq));
            Assert.Equal(StopReplication, goalAfterRestart.GoalState);

            // Writes are taken only once the old primary's lease is provably over.
            var writable = await Eventually.ValueAsync(async () =>
            {
                await h.Bus.Publish(Probe(a, ok: false));
                var goal = Assert.IsType<NodeGoal>(await h.ReportAsync(b, StopReplication, ++seq));
                return goal.GoalState == WaitPrimary ? goal : null;
            }, "the candidate's goal to become wait_primary", TimeSpan.FromSeconds(90));
            Assert.NotNull(writable.Lease);

            var state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
            Assert.Equal(Demoted, state.Nodes.Single(n => n.Node.NodeId == a.NodeId).GoalState);
            await Eventually.TrueAsync(() => Task.FromResult(h.Published.Of<PrimaryChanged>().Any(p => p.NewPrimary?.NodeId == b.NodeId)),
                "PrimaryChanged to the new primary");
        }
        finally
        {
            await h.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_dead_primary_whose_only_standby_has_priority_0_is_announced_once_as_a_blocked_failover()
    {
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings);
        var (a, b) = await BootstrapAsync(h);
        long seq = 100;
        var set = await h.RequestAsync<SetCandidatePriority, OperatorCommandSucceeded, OperatorCommandRefused>(new SetCandidatePriority("default", b.NodeId, 0));
        Assert.IsType<OperatorCommandSucceeded>(set);

        // The primary's host dies; the standby keeps reporting and is never promoted.
        var blocked = await Eventually.ValueAsync(async () =>
        {
            await h.Bus.Publish(Probe(a, ok: false));
            Assert.Equal(Secondary, Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq)).GoalState);
            return h.Published.Of<FailoverBlocked>().FirstOrDefault();
        }, "FailoverBlocked for the dead primary", TimeSpan.FromSeconds(90));
        Assert.Equal(a.NodeId, blocked.Primary!.NodeId);
        Assert.Contains("every standby has candidate priority 0", blocked.Reason);
        for (var i = 0; i < 3; i++) Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq));
        Assert.Single(h.Published.Of<FailoverBlocked>());

        // show events says it, and who changed the priority.
        var events = await h.RequestAsync<GetEvents, FormationEvents>(new GetEvents("default", null, 50));
        Assert.Contains(events.Events, e => e.Description.Contains("no failover will happen", StringComparison.Ordinal));
        Assert.Contains(events.Events, e => e.Description.Contains($"from 50 to 0", StringComparison.Ordinal));

        // The operator makes the standby a candidate: the block ends, the failover starts.
        await h.RequestAsync<SetCandidatePriority, OperatorCommandSucceeded, OperatorCommandRefused>(new SetCandidatePriority("default", b.NodeId, 50));
        await Eventually.TrueAsync(() => Task.FromResult(h.Published.Of<FailoverBlocked>().Any(f => f.Reason is null)), "the block to end");
        await Eventually.ValueAsync(async () =>
        {
            await h.Bus.Publish(Probe(a, ok: false));
            var goal = Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq));
            return goal.GoalState == PreparePromotion ? goal : null;
        }, "the standby's goal to become prepare_promotion", TimeSpan.FromSeconds(90));
    }

    [Fact]
    public async Task A_candidate_waiting_for_the_old_primarys_lease_is_promoted_when_it_ends_without_a_report_or_timer_tick()
    {
        // No periodic evaluation for ten minutes: only the wake the decision asks for can promote the candidate.
        // The candidate counts as silent 2 s after its last report by default, and the rules run only for a node
        // that reports: the wake, due 1.25 s after that report, then had 0.75 s to run. On a loaded CI box it once
        // ran later and found the candidate silent (a real keeper reports again within a second). A long silence
        // limit keeps this test about the wake, not about how promptly a loaded box runs it.
        var settings = new Dictionary<string, string?>(FastSettings)
        {
            ["Monitor:TimerPeriod"] = "00:10:00",
            ["Monitor:Core:KeeperSilenceTimeout"] = "00:00:30",
        };
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: settings);
        var (a, b) = await BootstrapAsync(h);
        long seq = 100;

        await Eventually.ValueAsync(async () =>
        {
            await h.Bus.Publish(Probe(a, ok: false));
            var goal = Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq));
            return goal.GoalState == PreparePromotion ? goal : null;
        }, "the standby's goal to become prepare_promotion", TimeSpan.FromSeconds(90));
        Assert.Equal(StopReplication, Assert.IsType<NodeGoal>(await h.ReportAsync(b, PreparePromotion, ++seq)).GoalState);
        // The candidate stops streaming with this report: the old primary may serve until it + L + margin.
        var stopped = Assert.IsType<NodeGoal>(await h.ReportAsync(b, StopReplication, ++seq));
        Assert.Equal(StopReplication, stopped.GoalState);
        // One more report inside the wait (the timer re-runs the rules only for nodes that report), then silence.
        await Task.Delay(MonitorOptions.Default.PrimaryLease / 2);
        Assert.Equal(StopReplication, Assert.IsType<NodeGoal>(await h.ReportAsync(b, StopReplication, ++seq)).GoalState);

        // Nothing else happens on the bus: the monitor assigns wait_primary by itself once the lease is over.
        var promoted = await Eventually.ValueAsync(
            () => Task.FromResult(h.Published.Of<GoalStateAssigned>().FirstOrDefault(g => g.Node.NodeId == b.NodeId && g.GoalState == WaitPrimary)),
            "wait_primary for the candidate", TimeSpan.FromSeconds(60));
        var o = MonitorOptions.Default;
        Assert.True(promoted.OccurredAt >= h.Published.Of<GoalStateAssigned>().Single(g => g.Node.NodeId == b.NodeId && g.GoalState == StopReplication).OccurredAt
            + o.PrimaryLease + o.LeaseSafetyMargin, "never before the lease and the margin are over");
    }

    [Fact]
    public async Task A_switchover_completes_on_the_old_primarys_confirmation_without_waiting_for_the_candidates_next_report()
    {
        // As above: the candidate's rule runs on the old primary's report only while the candidate counts as reporting,
        // and two round trips of the old primary lie between its last report and that one.
        var settings = new Dictionary<string, string?>(FastSettings)
        {
            ["Monitor:TimerPeriod"] = "00:10:00",
            ["Monitor:Core:KeeperSilenceTimeout"] = "00:00:30",
        };
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: settings);
        var (a, b) = await BootstrapAsync(h);
        long seqA = 100, seqB = 100;

        Assert.IsType<OperatorCommandSucceeded>(
            await h.RequestAsync<PerformSwitchover, OperatorCommandSucceeded, OperatorCommandRefused>(new PerformSwitchover("default", 0)));
        Assert.Equal(Draining, Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, ++seqA, running: false)).GoalState);
        Assert.Equal(StopReplication, Assert.IsType<NodeGoal>(await h.ReportAsync(b, PreparePromotion, ++seqB)).GoalState);
        Assert.Equal(StopReplication, Assert.IsType<NodeGoal>(await h.ReportAsync(b, StopReplication, ++seqB)).GoalState);
        // The old primary confirms last. Its own rules have nothing for it; the candidate's rule (GSM-26) now holds.
        await h.ReportAsync(a, Draining, ++seqA, running: false);
        await h.ReportAsync(a, DemoteTimeout, ++seqA, running: false);

        await Eventually.ValueAsync(
            () => Task.FromResult(h.Published.Of<GoalStateAssigned>().FirstOrDefault(g => g.Node.NodeId == b.NodeId && g.GoalState == WaitPrimary)),
            "wait_primary for the candidate, with no further report from it and no timer tick", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Two_monitor_instances_on_one_group_leave_a_single_consistent_history()
    {
        var logs = new LogCapture();
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, instances: 2, settings: FastSettings, adjust: b =>
        {
            b.Logging.AddProvider(logs);
            b.Logging.AddFilter<LogCapture>("Marten", LogLevel.Information);
            b.Logging.AddFilter<LogCapture>("PgAutoFailover.Monitor.Groups", LogLevel.Debug);
        });
        var (a, b) = await BootstrapAsync(h);
        // The group's reports and probes go to the one instance holding its partition; sending them straight to a
        // partition of each instance makes both decide on it, as when one hangs holding it and resumes after another
        // took it. Hammer the group from both at once: long enough bursts that one instance loses the append race
        // many times in a row (with 5 immediate retries, 150 rounds faulted a report in 1 of 4 runs), yet every
        // report must be answered. What a steady burst stores is the primary's lease renewals, one about every half
        // lease: a burst over in a second stores a handful and may meet no race at all (seen in CI once the suite ran
        // faster), so bursts of 100 rounds go on until the instances have lost an append race, for two minutes at most.
        var partitions = await h.PartitionsAsync();
        var (first, second) = (partitions[0][0], partitions[1][0]);
        var round = 0;
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        do
        {
            var tasks = new List<Task>();
            for (var i = 0; i < 100; i++, round++)
            {
                tasks.Add(h.ReportThroughAsync(round % 2 == 0 ? first : second, a, Primary, 1000 + round, repState: "quorum"));
                tasks.Add(h.ReportThroughAsync(round % 2 == 0 ? second : first, b, Secondary, 1000 + round));
                tasks.Add(h.Bus.Publish(Probe(a, ok: true)));
            }
            await Task.WhenAll(tasks);
        }
        while (!logs.Entries.Any(e => e.Message.Contains("moved on", StringComparison.Ordinal)) && DateTime.UtcNow < until);

        var stream = await h.StreamAsync("default");
        Assert.Equal(Enumerable.Range(1, stream.Count).Select(v => (long)v), stream.Select(e => e.Version));
        // Every goal assignment starts from the goal the one before it left: no instance advanced from a stale version.
        foreach (var node in new[] { a.NodeId, b.NodeId })
        {
            var goals = stream.Select(e => e.Data).OfType<GoalAssigned>().Where(g => g.NodeId == node).ToList();
            for (var i = 1; i < goals.Count; i++) Assert.Equal(goals[i - 1].Goal, goals[i].PreviousGoal);
        }
        // Reports are applied in sequence order, never twice.
        var sequences = stream.Select(e => e.Data).OfType<NodeReported>().Where(r => r.NodeId == a.NodeId).Select(r => r.Sequence).ToList();
        Assert.Equal(sequences.Distinct().Count(), sequences.Count);

        var rebuilt = GroupProjection.Rebuild(stream.Select(e => (IGroupEvent)e.Data));
        Assert.Equal([Primary, Secondary], rebuilt.Nodes.Select(n => n.GoalState));

        // The instances did lose append races, each said once in our words (at debug level); none became a store error in the log
        // (Marten's own logger wrote one, with the SQL batch and a stack trace, per conflict).
        Assert.Contains(logs.Entries, e => e.Message.Contains("moved on", StringComparison.Ordinal));
        Assert.Empty(logs.Entries.Where(e => e.Category.StartsWith("Marten", StringComparison.Ordinal) && e.Level >= LogLevel.Error)
            .Select(e => $"{e.Message} ({e.Exception?.GetType().Name}: {e.Exception?.Message})"));
    }

    [Fact]
    public async Task Instances_share_the_partitions_a_group_is_decided_by_its_holder_alone_and_a_stopped_ones_are_taken_over()
    {
        var logs = new LogCapture();
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, instances: 2, settings: FastSettings, adjust: b =>
        {
            b.Logging.AddProvider(logs);
            b.Logging.AddFilter<LogCapture>("PgAutoFailover.Monitor.Groups", LogLevel.Debug);
        });
        var (a, b) = await BootstrapAsync(h);
        var partitions = await h.PartitionsAsync();
        Assert.Equal([MonitorPartitions.Count / 2, MonitorPartitions.Count / 2], partitions.Select(p => p.Count));
        Assert.Empty(partitions[0].Intersect(partitions[1]));
        // Until the second instance's start split the partitions, both held the group and could race on it (seen once in
        // CI: one "moved on" during the bootstrap); what follows is about the split partitions alone.
        var split = logs.Entries.Count;

        // Routed as keepers and health-checkers publish them, the group's reports and probes reach one instance only:
        // it never finds that another advanced the group.
        var tasks = new List<Task>();
        for (var i = 0; i < 50; i++)
        {
            tasks.Add(h.ReportAsync(a, Primary, 1000 + i, repState: "quorum"));
            tasks.Add(h.ReportAsync(b, Secondary, 1000 + i));
            tasks.Add(h.Bus.Publish(Probe(a, ok: true)));
        }
        await Task.WhenAll(tasks);
        Assert.DoesNotContain(logs.Entries.Skip(split), e => e.Message.Contains("moved on", StringComparison.Ordinal));

        // The instance holding the group stops: the other takes every partition and answers the group's next report.
        var holder = h.Monitors.Single(m => m.Services.GetRequiredService<PartitionOwner>().Holds(GroupStream.Key("default", 0)));
        await h.StopMonitorAsync(holder);
        Assert.Equal(MonitorPartitions.Count, Assert.Single(await h.PartitionsAsync()).Count);
        Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, 2000, repState: "quorum"));
    }

    [Fact]
    public async Task Duplicated_reordered_and_malformed_messages_change_nothing()
    {
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings);
        var (a, _) = await BootstrapAsync(h);
        var before = (await h.StreamAsync("default")).Count;

        var duplicate = Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, 50, repState: "quorum"));
        var afterFirst = (await h.StreamAsync("default")).Count;
        // A redelivery of the report last taken is answered as the first delivery was; an older one is refused with
        // the epoch the keeper must pass.
        var again = Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, 50, repState: "quorum"));
        var older = Assert.IsType<NodeReportRejected>(await h.ReportAsync(a, Primary, 49, repState: "quorum"));
        Assert.Equal(Primary, duplicate.GoalState);
        Assert.Equal(Primary, again.GoalState);
        Assert.False(older.NodeUnknown);
        Assert.Equal(0, older.LastAcceptedEpoch);
        Assert.Contains("duplicate or out of order", older.Reason);
        Assert.Equal(afterFirst, (await h.StreamAsync("default")).Count);
        Assert.True(afterFirst >= before);

        // A forged report with a far-future sequence is taken (it looks like the keeper's), but it no longer silences
        // the node: its next report is refused with the epoch to pass, and the report of the next epoch is taken.
        Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, long.MaxValue - 1, repState: "quorum"));
        var behindForged = Assert.IsType<NodeReportRejected>(await h.ReportAsync(a, Primary, 51, repState: "quorum"));
        Assert.Equal(0, behindForged.LastAcceptedEpoch);
        Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, 52, repState: "quorum", epoch: 1));
        // A forged epoch far ahead is refused outright, so the counter cannot be run out either.
        var farEpoch = Assert.IsType<NodeReportRejected>(await h.ReportAsync(a, Primary, 53, repState: "quorum", epoch: 1_000_000));
        Assert.Equal(1, farEpoch.LastAcceptedEpoch);
        Assert.Contains("more than 1000 at once", farEpoch.Reason);
        Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, 54, repState: "quorum", epoch: 1));

        // Unknown node: a rejection, not a crash.
        var unknown = await h.ReportAsync(a with { NodeId = 999 }, Secondary, 1);
        Assert.True(Assert.IsType<NodeReportRejected>(unknown).NodeUnknown);

        // A body that is not a ReportNodeState ends in the error queue; the consumer keeps serving. Published with no
        // partition for routing key, it is taken by partition 0's endpoint (the partition exchange's alternate).
        await PublishRawAsync("PgAutoFailover.Contracts:ReportNodeState", "{ this is not json");
        await Eventually.TrueAsync(async () => await QueueDepthAsync($"{MonitorPartitions.Queue(0)}_error") >= 1, "the malformed message in the error queue");
        Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, 55, repState: "quorum", epoch: 1));
    }

    [Fact]
    public async Task A_reply_that_cannot_be_sent_is_dropped_and_every_endpoint_goes_on_serving()
    {
        var logs = new LogCapture();
        var capture = logs.Into("", LogLevel.Debug);
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings, adjust: capture);
        try { await Body(); }
        catch
        {
            foreach (var e in logs.Entries.Where(e => e.Level >= LogLevel.Warning).Take(40)) Console.WriteLine($"LOG {e.Level} {e.Category}: {e.Message}");
            throw;
        }

        async Task Body()
        {
        var (a, b) = await BootstrapAsync(h);

        // Issue 13 defect 2: a response address naming an exchange that exists with other arguments. Declaring it to
        // answer fails with PRECONDITION_FAILED, which closes the channel; the request was redelivered and failed again
        // in a loop, and every receive endpoint of the monitor stopped.
        const string trap = "pgaf-test-reply-trap";
        await using (var connection = await new ConnectionFactory { Uri = Amqp }.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.ExchangeDeclareAsync(trap, ExchangeType.Topic, durable: false, autoDelete: false);
        }
        var trapAddress = new Uri($"{Amqp.ToString().TrimEnd('/')}/{trap}?durable=true");
        for (var i = 0; i < 3; i++)
        {
            await h.Bus.Publish(new GetFormationState("default"), c => c.ResponseAddress = trapAddress);
            await h.Bus.Publish(new PerformSwitchover("nope", 0), c => c.ResponseAddress = trapAddress);
        }

        // Every kind of endpoint still answers, within the request timeout, for a while after.
        for (var round = 0; round < 5; round++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.IsType<FormationState>(await h.RequestAsync<GetFormationState, FormationState, OperatorCommandRefused>(new GetFormationState("default")));
            Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, 200 + round));
            Assert.IsType<NodeRegistered>(await h.RegisterAsync("default", 6001, "a"));
        }
        Assert.Equal(0u, await QueueDepthAsync("operator-queries"));
        Assert.Equal(0u, await QueueDepthAsync("operator-commands"));
        // Each trapped request was dropped once, with one line; none faulted or came back.
        Assert.Equal(6, logs.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.StartsWith("Dropped ", StringComparison.Ordinal)
            && e.Message.Contains("declared with other arguments", StringComparison.Ordinal)));
        Assert.DoesNotContain(logs.Entries, e => e.Message.StartsWith("R-FAULT", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_keepers_error_and_progress_are_shown_logged_and_kept_with_its_liveness_but_are_neither_events_nor_topology()
    {
        var logs = new LogCapture();
        var capture = logs.Into();
        var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings, adjust: capture);
        try
        {
            var (a, b) = await BootstrapAsync(h);
            long seq = 100;
            await Task.Delay(TimeSpan.FromSeconds(1)); // the bootstrap's topology snapshots have arrived
            // The primary's reports renew its lease, which is always an event; nothing else may be.
            async Task<List<string>> EventsAsync() => [.. (await h.StreamAsync("default")).Where(e => e.Data is not LeaseGranted).Select(e => e.Data.GetType().Name)];
            var events = await EventsAsync();
            var topologies = h.Published.Of<FormationTopologyChanged>().Count;
            NodeSnapshot B(FormationState s) => s.Nodes.Single(n => n.Node.NodeId == b.NodeId);
            IReadOnlyList<LogCapture.Entry> ErrorLogs() =>
                logs.Entries.Where(e => e.Values.TryGetValue("NodeId", out var id) && Equals(id, b.NodeId) && e.Values.ContainsKey("LastError")).ToList();

            Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq, lastError: "pg_rewind failed (exit 1)"));
            var state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
            Assert.Equal("pg_rewind failed (exit 1)", B(state).LastError);
            Assert.Null(B(state).Progress);
            var warning = Assert.Single(ErrorLogs());
            Assert.Equal(LogLevel.Warning, warning.Level);
            Assert.Equal("pg_rewind failed (exit 1)", warning.Values["LastError"]);
            Assert.Contains("pg_rewind failed (exit 1)", warning.Message);

            // The same error again, now with progress: shown, not logged twice.
            Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq, lastError: "pg_rewind failed (exit 1)", progress: "pg_basebackup from node 1 (127.0.0.1:6001): 3.0 MB / 22 MB (13 %), 1 s"));
            Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, ++seq, repState: "quorum"));
            state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
            Assert.Equal("pg_basebackup from node 1 (127.0.0.1:6001): 3.0 MB / 22 MB (13 %), 1 s", B(state).Progress);
            Assert.Single(ErrorLogs());
            Assert.Null(state.Nodes.Single(n => n.Node.NodeId == a.NodeId).LastError);

            // A failure retried every cycle quotes fresh timestamps and PIDs: shown as is, yet one warning.
            const string startFailed = "pg_ctl: could not start server | 2026-11-26 02:33:12.123 UTC [4711] FATAL:  could not create lock file";
            Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq, lastError: startFailed));
            Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq, lastError: startFailed.Replace("12.123", "13.456").Replace("4711", "4725")));
            state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
            Assert.Contains("[4725]", B(state).LastError);
            Assert.Equal(2, ErrorLogs().Count(e => e.Level == LogLevel.Warning));

            // Success: both gone, and the monitor says so.
            Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq));
            state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
            Assert.Null(B(state).LastError);
            Assert.Null(B(state).Progress);
            Assert.Contains(logs.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("no longer reports an error")
                                               && Equals(e.Values.GetValueOrDefault("PreviousError"), startFailed.Replace("12.123", "13.456").Replace("4711", "4725")));

            // None of it was a stream event or a topology change.
            Assert.Equal(events, await EventsAsync());
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(topologies, h.Published.Of<FormationTopologyChanged>().Count);

            // Kept with the node's liveness: a restarted monitor still shows the last error.
            Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, ++seq, lastError: "cannot reach 127.0.0.1:6001"));
            await h.StopMonitorAsync(h.Monitor); // flushes the liveness on the way out
            await h.StartMonitorAsync(FastSettings);
            state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
            Assert.Equal("cannot reach 127.0.0.1:6001", B(state).LastError);
        }
        finally
        {
            await h.DisposeAsync();
        }
    }

    [Fact]
    public async Task Messages_that_break_the_rules_are_answered_with_a_one_line_refusal_and_reach_neither_store_nor_decision()
    {
        var logs = new LogCapture();
        var capture = logs.Into();
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings, adjust: capture);
        var (a, _) = await BootstrapAsync(h);

        // Issue 13 defect 3: a 1 MB host reached the store's unique index; a null formation reached Npgsql. Neither was answered.
        var huge = await h.RequestAsync<RegisterNode, NodeRegistered, RegistrationRejected>(
            new RegisterNode("default", null, "huge", new string('h', 1 << 20), 6100, "postgres", null, 50, true, null, Init));
        var rejected = Assert.IsType<RegistrationRejected>(huge);
        Assert.Equal("the host has 1048576 characters, more than 253", rejected.Reason);
        Assert.True(rejected.Host.Length <= 253, "the refusal does not echo the megabyte back");

        var nullFormation = await h.RequestAsync<PerformFailover, OperatorCommandSucceeded, OperatorCommandRefused>(new PerformFailover(null!, 0));
        Assert.Equal("the formation name is empty", Assert.IsType<OperatorCommandRefused>(nullFormation).Reason);
        var badName = await h.RequestAsync<GetFormationState, FormationState, OperatorCommandRefused>(new GetFormationState("a\nb"));
        Assert.Equal("\"a?b\" is not a valid formation name (letters, digits, '_' and '-', not first)", Assert.IsType<OperatorCommandRefused>(badName).Reason);
        var badState = await h.ReportAsync(a, (NodeState)77, 1000);
        Assert.Equal("77 is not a node state", Assert.IsType<NodeReportRejected>(badState).Reason);
        var badPort = await h.RequestAsync<RegisterNode, NodeRegistered, RegistrationRejected>(
            new RegisterNode("default", null, null, "127.0.0.1", 0, "postgres", null, 50, true, null, Init));
        Assert.Equal("port 0 is not between 1 and 65535", Assert.IsType<RegistrationRejected>(badPort).Reason);

        // One warning line each, nothing stored, and the monitor goes on serving.
        var refusals = logs.Entries.Where(e => e.Message.StartsWith("Refused ", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, refusals.Count);
        Assert.All(refusals, e => Assert.Equal(LogLevel.Warning, e.Level));
        Assert.All(refusals, e => Assert.DoesNotContain('\n', e.Message));
        Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, 1001, repState: "quorum"));
        var state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
        Assert.Equal(2, state.Nodes.Count);
        Assert.DoesNotContain((await h.StreamAsync("default")).Select(e => e.Data), e => e is NodeReported { ReportedState: (NodeState)77 });
    }

    [Fact]
    public async Task Operator_commands_answer_a_result_or_a_refusal_with_the_reason()
    {
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings);
        var (a, b) = await BootstrapAsync(h);

        var created = await h.RequestAsync<CreateFormation, OperatorCommandSucceeded, OperatorCommandRefused>(new CreateFormation("analytics", "app", 0));
        Assert.IsType<OperatorCommandSucceeded>(created);
        var again = await h.RequestAsync<CreateFormation, OperatorCommandSucceeded, OperatorCommandRefused>(new CreateFormation("analytics", "app", 0));
        Assert.Contains("already exists", Assert.IsType<OperatorCommandRefused>(again).Reason);

        var badPriority = await h.RequestAsync<SetCandidatePriority, OperatorCommandSucceeded, OperatorCommandRefused>(new SetCandidatePriority("default", b.NodeId, 200));
        Assert.Contains("between 0 and 100", Assert.IsType<OperatorCommandRefused>(badPriority).Reason);

        var noSuchNode = await h.RequestAsync<PerformPromotion, OperatorCommandSucceeded, OperatorCommandRefused>(new PerformPromotion("default", 4242, null));
        Assert.Contains("not registered", Assert.IsType<OperatorCommandRefused>(noSuchNode).Reason);

        var priority = await h.RequestAsync<SetCandidatePriority, OperatorCommandSucceeded, OperatorCommandRefused>(new SetCandidatePriority("default", b.NodeId, 0));
        Assert.IsType<OperatorCommandSucceeded>(priority);
        var failover = await h.RequestAsync<PerformFailover, OperatorCommandSucceeded, OperatorCommandRefused>(new PerformFailover("default", 0));
        Assert.IsType<OperatorCommandRefused>(failover);

        var dropBusy = await h.RequestAsync<DropFormation, OperatorCommandSucceeded, OperatorCommandRefused>(new DropFormation("default"));
        Assert.IsType<OperatorCommandRefused>(dropBusy);
        var dropEmpty = await h.RequestAsync<DropFormation, OperatorCommandSucceeded, OperatorCommandRefused>(new DropFormation("analytics"));
        Assert.IsType<OperatorCommandSucceeded>(dropEmpty);

        var missing = await h.RequestAsync<GetFormationState, FormationState, OperatorCommandRefused>(new GetFormationState("nope"));
        Assert.Contains("does not exist", Assert.IsType<OperatorCommandRefused>(missing).Reason);
    }

    [Fact]
    public async Task The_http_read_api_answers_as_the_bus_does_and_names_its_broker()
    {
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings);
        await BootstrapAsync(h);
        using var http = new HttpClient { BaseAddress = h.Monitor.BaseAddress };
        var web = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web);

        var overBus = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
        using var state = await http.GetAsync(MonitorReadApi.StatePath("default"));
        Assert.Equal(System.Net.HttpStatusCode.OK, state.StatusCode);
        Assert.Equal(MonitorReadApi.BrokerIdentity(Amqp), Assert.Single(state.Headers.GetValues(MonitorReadApi.BrokerHeader)));
        var overHttp = System.Text.Json.JsonSerializer.Deserialize<FormationState>(await state.Content.ReadAsStringAsync(), web)!;
        Assert.Equal(overBus.Formation, overHttp.Formation);
        Assert.Equal(overBus.Nodes.Select(n => (n.Node.NodeId, n.Node.NodeName, n.ReportedState, n.GoalState)),
                     overHttp.Nodes.Select(n => (n.Node.NodeId, n.Node.NodeName, n.ReportedState, n.GoalState)));

        var events = System.Text.Json.JsonSerializer.Deserialize<FormationEvents>(
            await http.GetStringAsync(MonitorReadApi.EventsPath("default", 0, 3)), web)!;
        Assert.Equal(3, events.Events.Count);
        var settings = System.Text.Json.JsonSerializer.Deserialize<FormationSettings>(
            await http.GetStringAsync(MonitorReadApi.SettingsPath("default")), web)!;
        Assert.Contains(settings.Settings, s => s.Setting == "synchronous_standby_names");

        using var missing = await http.GetAsync(MonitorReadApi.StatePath("nope"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        Assert.True(missing.Headers.Contains(MonitorReadApi.BrokerHeader));
        var refused = System.Text.Json.JsonSerializer.Deserialize<OperatorCommandRefused>(await missing.Content.ReadAsStringAsync(), web)!;
        Assert.Equal("formation \"nope\" does not exist", refused.Reason);
    }

    [Fact]
    public async Task Update_node_metadata_renames_and_moves_a_node_for_state_topology_events_goals_and_the_directory()
    {
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings);
        var (a, b) = await BootstrapAsync(h);
        var topologiesBefore = h.Published.Of<FormationTopologyChanged>().Count;

        var moved = await h.RequestAsync<UpdateNodeMetadata, OperatorCommandSucceeded, OperatorCommandRefused>(
            new UpdateNodeMetadata("default", 0, a.NodeId, Name: "east", Port: 7001));
        Assert.Contains($"node {a.NodeId} \"east\" (127.0.0.1:7001) updated", Assert.IsType<OperatorCommandSucceeded>(moved).Message);

        var state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
        var row = state.Nodes.Single(n => n.Node.NodeId == a.NodeId);
        Assert.Equal(("east", "127.0.0.1", 7001, Primary), (row.Node.NodeName, row.Node.Host, row.Node.Port, row.GoalState));
        await Eventually.TrueAsync(() => Task.FromResult(h.Published.Of<FormationTopologyChanged>().Skip(topologiesBefore)
                .Any(t => t.Nodes.Any(n => n.Node.NodeId == a.NodeId && n.Node.NodeName == "east" && n.Node.Port == 7001))),
            "a topology snapshot with the new name and port");
        var events = await h.RequestAsync<GetEvents, FormationEvents>(new GetEvents("default", null, 50));
        Assert.Contains(events.Events, e => e.NodeId == a.NodeId && e.Description == $"Updating metadata of node {a.NodeId}: \"a\" (127.0.0.1:6001) is now \"east\" (127.0.0.1:7001)");
        // The standby's next reply names the primary at its new address.
        var goal = Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, 500));
        Assert.Equal(("east", 7001), (goal.Primary!.NodeName, goal.Primary.Port));

        // Unchanged: accepted, no event.
        var same = await h.RequestAsync<UpdateNodeMetadata, OperatorCommandSucceeded, OperatorCommandRefused>(
            new UpdateNodeMetadata("default", null, a.NodeId, Name: "east"));
        Assert.Contains("nothing changed", Assert.IsType<OperatorCommandSucceeded>(same).Message);

        // Refusals: taken name, taken address (in another formation too), bad port, unknown node, wrong group.
        Assert.IsType<OperatorCommandSucceeded>(await h.RequestAsync<CreateFormation, OperatorCommandSucceeded, OperatorCommandRefused>(new CreateFormation("analytics", "postgres", 0)));
        var other = Assert.IsType<NodeRegistered>(await h.RegisterAsync("analytics", 6001, "c")).Node; // the address node a gave up is free
        async Task<string> RefusedAsync(UpdateNodeMetadata m) =>
            Assert.IsType<OperatorCommandRefused>(await h.RequestAsync<UpdateNodeMetadata, OperatorCommandSucceeded, OperatorCommandRefused>(m)).Reason;
        Assert.Contains($"node {a.NodeId} is already named \"east\"", await RefusedAsync(new UpdateNodeMetadata("default", 0, b.NodeId, Name: "east")));
        Assert.Contains($"node {other.NodeId} \"c\" of formation \"analytics\" is registered there",
            await RefusedAsync(new UpdateNodeMetadata("default", 0, b.NodeId, Port: 6001)));
        Assert.Contains("port 70000 is not between 1 and 65535", await RefusedAsync(new UpdateNodeMetadata("default", 0, b.NodeId, Port: 70000)));
        Assert.Contains("node 4242 is not registered", await RefusedAsync(new UpdateNodeMetadata("default", 0, 4242, Name: "x")));
        Assert.Contains("not group 3", await RefusedAsync(new UpdateNodeMetadata("default", 3, b.NodeId, Name: "x")));
        Assert.Single(await h.StreamAsync("default"), e => e.Data is NodeMetadataChanged);
    }

    [Fact]
    public async Task Registrations_and_moves_racing_through_different_groups_never_share_one_address()
    {
        // Each formation's group has its own gate, so these requests are decided concurrently and each passes the
        // consumer's look-up before any commits: only the store can keep one node per host:port.
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: FastSettings);
        var formations = Enumerable.Range(1, 6).Select(i => $"race{i}").ToList();
        foreach (var f in formations)
        {
            Assert.IsType<OperatorCommandSucceeded>(await h.RequestAsync<CreateFormation, OperatorCommandSucceeded, OperatorCommandRefused>(new CreateFormation(f, "postgres", 0)));
        }
        for (var round = 0; round < 8; round++)
        {
            var port = 7100 + round;
            var answers = await Task.WhenAll(formations.Select(f => h.RegisterAsync(f, port, $"n{round}")));
            var registered = Assert.Single(answers.OfType<NodeRegistered>());
            Assert.All(answers.OfType<RegistrationRejected>(), r => Assert.Contains($"127.0.0.1:{port}", r.Reason));
            var holders = await NodesAtAsync(port);
            Assert.Equal([registered.Node.Formation], holders);
        }

        // Moves: a node in each formation, all asked at once to move to one free port.
        var movers = new List<NodeAddress>();
        foreach (var f in formations) movers.Add(Assert.IsType<NodeRegistered>(await h.RegisterAsync(f, 7200 + movers.Count, "mover")).Node);
        for (var round = 0; round < 8; round++)
        {
            var port = 7300 + round;
            var answers = await Task.WhenAll(movers.Select(m =>
                h.RequestAsync<UpdateNodeMetadata, OperatorCommandSucceeded, OperatorCommandRefused>(new UpdateNodeMetadata(m.Formation, 0, m.NodeId, Port: port))));
            Assert.Single(answers.OfType<OperatorCommandSucceeded>());
            Assert.All(answers.OfType<OperatorCommandRefused>(), r => Assert.Contains($"127.0.0.1:{port}", r.Reason));
            Assert.Single(await NodesAtAsync(port));
        }

        // What every formation's state says, not only the directory: each address at most once.
        var everywhere = new List<(string Host, int Port)>();
        foreach (var f in formations)
        {
            everywhere.AddRange((await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState(f))).Nodes.Select(n => (n.Node.Host, n.Node.Port)));
        }
        Assert.Equal(everywhere.Count, everywhere.Distinct().Count());

        async Task<List<string>> NodesAtAsync(int port)
        {
            var holders = new List<string>();
            foreach (var f in formations)
            {
                var state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState(f));
                holders.AddRange(state.Nodes.Where(n => n.Node.Port == port).Select(_ => f));
            }
            return holders;
        }
    }

    /// <summary>Registers two nodes and plays their keepers until the group is primary + secondary.</summary>
    [Fact]
    public async Task Lease_renewals_older_than_the_latest_snapshot_are_deleted_and_a_restart_still_resumes()
    {
        var settings = new Dictionary<string, string?>(FastSettings) { ["Monitor:SnapshotEvery"] = "10" };
        await using var h = await MonitorHarness.StartAsync(Amqp, StoreConnection, settings: settings);
        var (a, b) = await BootstrapAsync(h);
        var kept = (await h.StreamAsync("default")).Where(e => e.Data is not LeaseGranted).Select(e => e.Version).ToList();

        // 45 more primary reports: 45 lease renewals, each an event.
        var primarySequence = 1000L;
        for (var i = 0; i < 45; i++)
        {
            var goal = Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, ++primarySequence, repState: "quorum"));
            Assert.NotNull(goal.Lease);
        }

        var stream = await h.StreamAsync("default");
        await using (var session = h.Monitor.Services.GetRequiredService<Marten.IDocumentStore>().QuerySession())
        {
            var version = (await session.Events.FetchStreamStateAsync("default/0"))!.Version;
            Assert.True(version >= kept.Count + 45, $"stream at version {version}");
        }
        // Only the renewals after the latest snapshot (every 10 events) remain; every other event is still there.
        Assert.InRange(stream.Count(e => e.Data is LeaseGranted), 0, 10);
        Assert.Equal(kept, stream.Where(e => e.Data is not LeaseGranted).Select(e => e.Version).Take(kept.Count).ToList());
        var events = await h.RequestAsync<GetEvents, FormationEvents>(new GetEvents("default", null, 50));
        Assert.Contains(events.Events, e => e.NodeId == a.NodeId && e.Description.Contains("Registering node"));

        // A restarted monitor loads the group from its snapshot and the tail, and goes on renewing the primary's lease.
        await h.StopMonitorAsync(h.Monitor);
        await h.StartMonitorAsync(settings);
        var again = Assert.IsType<NodeGoal>(await h.ReportAsync(a, Primary, ++primarySequence, repState: "quorum"));
        Assert.Equal(Primary, again.GoalState);
        Assert.NotNull(again.Lease);
        Assert.Equal(Secondary, Assert.IsType<NodeGoal>(await h.ReportAsync(b, Secondary, 1000)).GoalState);
        var state = await h.RequestAsync<GetFormationState, FormationState>(new GetFormationState("default"));
        Assert.Equal([(a.NodeId, Primary), (b.NodeId, Secondary)], state.Nodes.Select(n => (n.Node.NodeId, n.GoalState)));
    }

    private static async Task<(NodeAddress A, NodeAddress B)> BootstrapAsync(MonitorHarness h)
    {
        var a = Assert.IsType<NodeRegistered>(await h.RegisterAsync("default", 6001, "a")).Node;
        var b = Assert.IsType<NodeRegistered>(await h.RegisterAsync("default", 6002, "b")).Node;
        var reported = new Dictionary<long, NodeState> { [a.NodeId] = Init, [b.NodeId] = Init };
        var sequence = new Dictionary<long, long> { [a.NodeId] = 0, [b.NodeId] = 0 };
        var goals = new Dictionary<long, NodeState>();
        for (var round = 0; round < 40; round++)
        {
            foreach (var node in new[] { a, b })
            {
                await h.Bus.Publish(Probe(node, ok: true));
                var answer = await h.ReportAsync(node, reported[node.NodeId], ++sequence[node.NodeId],
                    repState: reported[node.NodeId] == Primary || reported[node.NodeId] == WaitPrimary ? "quorum" : "");
                var goal = Assert.IsType<NodeGoal>(answer);
                goals[node.NodeId] = goal.GoalState;
                reported[node.NodeId] = goal.GoalState; // the keeper reaches its goal at once
            }
            if (goals.GetValueOrDefault(a.NodeId) == Primary && goals.GetValueOrDefault(b.NodeId) == Secondary
                && reported[a.NodeId] == Primary && reported[b.NodeId] == Secondary)
            {
                // One more round so the monitor sees both converged.
                await h.ReportAsync(a, Primary, ++sequence[a.NodeId], repState: "quorum");
                await h.ReportAsync(b, Secondary, ++sequence[b.NodeId]);
                return (a, b);
            }
        }
        throw new Xunit.Sdk.XunitException($"bootstrap did not converge: goals {string.Join(", ", goals)}");
    }

    private static NodeProbed Probe(NodeAddress node, bool ok) =>
        new(node, ok, ok ? null : "connection refused", TimeSpan.FromMilliseconds(1), "test-checker", DateTimeOffset.UtcNow, ok ? false : null);

    /// <summary>Straight through AMQP, bypassing MassTransit's serializer.</summary>
    private async Task PublishRawAsync(string exchange, string body)
    {
        await using var connection = await new ConnectionFactory { Uri = Amqp }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json" };
        await channel.BasicPublishAsync(exchange, "", mandatory: false, properties, Encoding.UTF8.GetBytes(body));
    }

    private async Task<uint> QueueDepthAsync(string queue)
    {
        await using var connection = await new ConnectionFactory { Uri = Amqp }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0; // not declared yet
        }
    }
}
