using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core.Tests.Harness;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Monitor.Core.Tests.Rules;

/// <summary>docs/states.md#registration register_node.</summary>
public class RegistrationRuleTests
{
    private static RegisterTrigger Node(long id, int priority = 50, NodeState initial = Init, string db = "postgres",
        string? formation = null, int? group = null, string? name = null, ulong? sysid = null, int port = 0) =>
        new(id, name, "localhost", port == 0 ? 5400 + (int)id : port, db, sysid, priority, true, initial, group, formation);

    [Fact]
    public void REG_1_unknown_formation_is_refused()
    {
        new G().Do(Node(1, formation: "other")).Refused(RefusalKind.RegistrationRejected, "create the formation first");
    }

    [Fact]
    public void REG_3_database_name_is_adopted_from_the_first_node_then_enforced()
    {
        var g = new G();
        g.Do(Node(1, db: "app")).Assigns(("REG-5", 1, NodeState.Single));
        Assert.Equal("app", g.State.Settings.DatabaseName);
        g.Do(Node(2, db: "other")).Refused(RefusalKind.RegistrationRejected, "uses database \"app\"");
    }

    [Fact]
    public void REG_4_pgsql_formation_has_only_group_zero()
    {
        new G().Do(Node(1, group: 1)).Refused(RefusalKind.RegistrationRejected, "only group 0");
    }

    [Fact]
    public void REG_5_first_node_with_priority_is_single()
    {
        var g = new G();
        g.Do(Node(1)).Assigns(("REG-5", 1, NodeState.Single));
        Assert.Equal("node_1", g[1].Name);
    }

    [Fact]
    public void REG_6_next_node_waits_as_standby()
    {
        new G().Node(1, Primary).Do(Node(2)).Assigns(("REG-6", 2, WaitStandby));
    }

    [Fact]
    public void REG_6_first_node_with_priority_zero_gets_a_retryable_refusal()
    {
        var d = new G().Do(Node(1, priority: 0));
        d.Refused(RefusalKind.RegistrationRejected, "retry registering in a moment");
        Assert.True(d.Refusal!.Retryable);
    }

    [Fact]
    public void REG_6_built_from_a_priority_zero_standby_in_report_lsn()
    {
        new G().Node(1, ReportLsn, priority: 0).Do(Node(2)).Assigns(("REG-6", 2, ReportLsn));
    }

    [Fact]
    public void REG_7_formation_without_secondaries_refuses_standbys()
    {
        var g = new G().Node(1, Primary);
        g.State = g.State with { Settings = g.State.Settings with { AllowSecondaries = false } };
        g.Do(Node(2)).Refused(RefusalKind.RegistrationRejected, "does not allow secondaries");
    }

    [Fact]
    public void REG_8_duplicates_and_bad_values_are_refused()
    {
        var g = new G().Node(1, Primary).With(1, n => n with { SystemIdentifier = 42 });
        g.Do(Node(1)).Refused(RefusalKind.RegistrationRejected, "already registered");
        g.Do(Node(2, port: 5401)).Refused(RefusalKind.RegistrationRejected, "localhost:5401");
        g.Do(Node(2, name: "node_1")).Refused(RefusalKind.RegistrationRejected, "named \"node_1\"");
        g.Do(Node(2, priority: 101)).Refused(RefusalKind.RegistrationRejected, "outside 0..100");
        g.Do(Node(2, sysid: 7)).Refused(RefusalKind.RegistrationRejected, "system identifier");
    }

    [Fact]
    public void REG_9_second_quorum_standby_bumps_number_sync_standbys()
    {
        var g = new G().Node(1, Primary).Node(2, Secondary);
        var d = g.Do(Node(3));
        Assert.Contains(d.Events, e => e is Events.NumberSyncStandbysChanged { NumberSyncStandbys: 1 });
        Assert.Equal(1, g.State.Settings.NumberSyncStandbys);
    }

    [Fact]
    public void REG_10_running_primary_cannot_join_a_group_that_has_one()
    {
        new G().Node(1, Primary).Do(Node(2, initial: NodeState.Single))
            .Refused(RefusalKind.RegistrationRejected, "should be in state wait_standby");
    }

    [Fact]
    public void REG_10_running_primary_adopted_as_first_node()
    {
        var g = new G();
        g.Do(Node(1, initial: NodeState.Single)).Assigns(("REG-5", 1, NodeState.Single));
        Assert.Equal(NodeState.Single, g[1].ReportedState);
    }

    [Fact]
    public void REG_11_state_machine_runs_for_the_new_node()
    {
        // The new node starts in init: nothing more to do until it reports; the decision holds its registration.
        var d = new G().Node(1, Primary).Do(Node(2));
        Assert.Contains(d.Events, e => e is Events.NodeJoined { NodeId: 2 });
        Assert.Single(d.Assignments);
    }

    [Fact]
    public void REG_5_refused_while_a_removed_primary_may_still_write()
    {
        var g = new G().Node(1, Primary, Dropped).With(1, n => n with { LeaseExpiresAt = G.Now + TimeSpan.FromSeconds(2) });
        var d = g.Do(Node(2));
        d.Refused(RefusalKind.RegistrationRejected, "may still accept writes");
        Assert.True(d.Refusal!.Retryable);
    }
}
