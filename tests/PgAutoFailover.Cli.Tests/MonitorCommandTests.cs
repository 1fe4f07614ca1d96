using System.Text.Json;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>pgaf against a monitor played by the test, over a real RabbitMQ broker.</summary>
public sealed class MonitorCommandTests(OperatorMonitor monitor) : IClassFixture<OperatorMonitor>
{
    private Task<CliResult> Pgaf(params string[] args) => CliRun.RunAsync(monitor.Environment, args);

    [Fact]
    public async Task Show_state_prints_the_spec_table_ordered_by_node_id()
    {
        var result = await Pgaf("show", "state");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("", result.Stderr);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.Equal(" Name |  Node |      Host:Port |       TLI: LSN |   Connection |      Reported State |      Assigned State", lines[0]);
        Assert.Equal("node1 |     1 | localhost:5501 |   1: 0/3000060 |   read-write |             primary |             primary", lines[2]);
        Assert.Equal("node2 |     2 | localhost:5502 |   1: 0/3000060 |    read-only |           secondary |           secondary", lines[3]);
        Assert.Contains(monitor.ReceivedOf<GetFormationState>(), m => m.Formation == "default");
    }

    [Fact]
    public async Task Show_state_json_is_an_array_of_current_state_rows()
    {
        var result = await Pgaf("show", "state", "--formation", "sales", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal("node1", rows[0].GetProperty("nodename").GetString());
        Assert.Equal(1, rows[0].GetProperty("node_id").GetInt64());
        Assert.Equal("primary", rows[0].GetProperty("current_group_state").GetString());
        Assert.Equal("secondary", rows[1].GetProperty("assigned_group_state").GetString());
        Assert.Equal("0/3000060", rows[1].GetProperty("reported_lsn").GetString());
        Assert.Equal(5502, rows[1].GetProperty("nodeport").GetInt32());
        Assert.Equal("sales", rows[1].GetProperty("formation").GetString());
    }

    [Fact]
    public async Task Show_state_prints_keeper_progress_and_errors_under_the_table_and_in_json()
    {
        var result = await Pgaf("show", "state", "--formation", "busy");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n');
        Assert.StartsWith("node3 |     3 | localhost:5503 |", lines[4]);
        Assert.EndsWith("|        wait_standby |          catchingup", lines[4]);
        Assert.Equal("", lines[5]);
        Assert.Equal($"node2 (2): progress: {FakeMonitor.BusyProgress}", lines[6]);
        Assert.Equal($"node3 (3): last error: {FakeMonitor.BusyError}", lines[7]);

        var json = await Pgaf("show", "state", "--formation", "busy", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var doc = JsonDocument.Parse(json.Stdout);
        var rows = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("last_error").ValueKind);
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("progress").ValueKind);
        Assert.Equal(FakeMonitor.BusyProgress, rows[1].GetProperty("progress").GetString());
        Assert.Equal(FakeMonitor.BusyError, rows[2].GetProperty("last_error").GetString());
    }

    [Fact]
    public async Task A_refused_query_prints_the_reason_on_one_line_and_exits_3()
    {
        var result = await Pgaf("show", "state", "--formation", "missing");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("pgaf: formation \"missing\" does not exist", CliRun.SingleErrorLine(result));
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task A_refused_failover_prints_the_monitors_reason_and_exits_3()
    {
        var result = await Pgaf("perform", "failover", "--formation", "f1", "--group", "0");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"pgaf: {FakeMonitor.NoCandidate}", CliRun.SingleErrorLine(result));
        Assert.Contains(monitor.ReceivedOf<PerformFailover>(), m => m.Formation == "f1" && m.GroupId == 0);
    }

    [Fact]
    public async Task Allow_data_loss_is_sent_only_when_asked_and_only_for_a_failover()
    {
        await Pgaf("perform", "failover", "--formation", "loss", "--allow-data-loss");
        Assert.Contains(monitor.ReceivedOf<PerformFailover>(), m => m.Formation == "loss" && m.AllowDataLoss);
        await Pgaf("perform", "failover", "--formation", "noloss");
        Assert.Contains(monitor.ReceivedOf<PerformFailover>(), m => m.Formation == "noloss" && !m.AllowDataLoss);

        var switchover = await Pgaf("perform", "switchover", "--formation", "loss-sw", "--allow-data-loss");
        Assert.Equal(1, switchover.ExitCode);
        Assert.DoesNotContain(monitor.ReceivedOf<PerformSwitchover>(), m => m.Formation == "loss-sw");
        Assert.Contains("--allow-data-loss", (await Pgaf("perform", "failover", "--help")).Stdout);
    }

    [Fact]
    public async Task Automatic_failover_is_paused_and_resumed_and_show_state_says_when_it_is_paused()
    {
        var paused = await Pgaf("disable", "automatic-failover", "--formation", "pause");
        Assert.True(paused.ExitCode == 0, paused.ToString());
        Assert.Equal("automatic failover disabled for formation pause\n", paused.Stdout);
        Assert.Contains(monitor.ReceivedOf<SetAutomaticFailover>(), m => m.Formation == "pause" && !m.Enabled);
        Assert.Contains("automatic failover is disabled for formation pause: no failover starts by itself (pgaf enable automatic-failover)",
            (await Pgaf("show", "state", "--formation", "pause")).Stdout);

        Assert.Equal(0, (await Pgaf("enable", "automatic-failover", "--formation", "pause")).ExitCode);
        Assert.Contains(monitor.ReceivedOf<SetAutomaticFailover>(), m => m.Formation == "pause" && m.Enabled);
        Assert.DoesNotContain("automatic failover is disabled", (await Pgaf("show", "state", "--formation", "pause")).Stdout);
    }

    [Fact]
    public async Task An_accepted_switchover_prints_the_monitors_message_and_exits_0()
    {
        var result = await Pgaf("perform", "switchover", "--formation", "f2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("switchover started in group 0\n", result.Stdout);
        Assert.Contains(monitor.ReceivedOf<PerformSwitchover>(), m => m.Formation == "f2" && m.GroupId == 0);
    }

    [Fact]
    public async Task Show_events_asks_for_the_count_and_prints_oldest_first()
    {
        var result = await Pgaf("show", "events", "--formation", "ev", "--count", "3");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.EndsWith("| event number 18", lines[2]);
        Assert.EndsWith("| event number 20", lines[4]);
        Assert.Contains(monitor.ReceivedOf<GetEvents>(), m => m.Formation == "ev" && m.Count == 3 && m.GroupId is null);

        var json = await Pgaf("show", "events", "--formation", "ev", "--count", "2", "--group", "0", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.Equal([19L, 20L], document.RootElement.EnumerateArray().Select(e => e.GetProperty("eventid").GetInt64()));
        Assert.Equal("primary", document.RootElement[0].GetProperty("goalstate").GetString());
        Assert.Contains(monitor.ReceivedOf<GetEvents>(), m => m.Formation == "ev" && m.Count == 2 && m.GroupId == 0);
    }

    [Fact]
    public async Task Show_settings_prints_the_rows_as_a_table_and_as_json()
    {
        var result = await Pgaf("show", "settings");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("  Context |    Name |                   Setting | Value", result.Stdout);
        Assert.Contains("  primary |   node1 | synchronous_standby_names | 'ANY 1 (pgautofailover_standby_2)'", result.Stdout);

        var json = await Pgaf("show", "settings", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.Equal("number_sync_standbys", document.RootElement[0].GetProperty("setting").GetString());
    }

    [Fact]
    public async Task A_broker_that_refuses_the_password_or_lacks_the_virtual_host_is_named_as_such()
    {
        var url = monitor.AmqpUri;
        var wrongPassword = new UriBuilder(url) { Password = "not-the-password" }.Uri.ToString();
        var refused = await CliRun.RunAsync(new Dictionary<string, string?> { ["RABBITMQ_URL"] = wrongPassword }, "perform", "failover", "--timeout", "10");
        Assert.Equal(6, refused.ExitCode);
        var line = CliRun.SingleErrorLine(refused);
        Assert.Contains("the broker refused the user name or password", line);
        Assert.DoesNotContain("not-the-password", line);

        var noVhost = new UriBuilder(url) { Path = "/no-such-vhost" }.Uri.ToString();
        // No retry brings a virtual host into being: pgaf says so at once, not after its --timeout of ten minutes.
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var missing = await CliRun.RunAsync(new Dictionary<string, string?> { ["RABBITMQ_URL"] = noVhost }, patience.Token,
            "perform", "failover", "--timeout", "600");
        Assert.False(patience.IsCancellationRequested, $"pgaf waited for its --timeout on a missing virtual host: {missing}");
        Assert.Equal(6, missing.ExitCode);
        Assert.Contains("the broker has no virtual host \"no-such-vhost\"", CliRun.SingleErrorLine(missing));
    }

    [Fact]
    public async Task A_candidate_priority_out_of_range_is_rejected_without_sending_anything()
    {
        var bad = await Pgaf("set", "node", "candidate-priority", "--node-id", "4242", "200");

        Assert.Equal(1, bad.ExitCode);
        Assert.Equal("pgaf: candidate priority must be between 0 and 100, got 200", CliRun.SingleErrorLine(bad));

        // A valid command sent after it arrives; the invalid one never did.
        var good = await Pgaf("set", "node", "candidate-priority", "--node-id", "4243", "65");
        Assert.True(good.ExitCode == 0, good.ToString());
        Assert.Equal("candidate priority of node 4243 is now 65\n", good.Stdout);
        Assert.Contains(monitor.ReceivedOf<SetCandidatePriority>(), m => m.NodeId == 4243 && m.CandidatePriority == 65);
        Assert.DoesNotContain(monitor.ReceivedOf<SetCandidatePriority>(), m => m.NodeId == 4242);
    }

    [Fact]
    public async Task Set_node_metadata_sends_only_the_given_fields_and_prints_the_monitors_answer()
    {
        var renamed = await Pgaf("set", "node", "metadata", "--formation", "meta-text", "--node-id", "2", "--name", " east ", "--pgport", "6002");

        Assert.True(renamed.ExitCode == 0, renamed.ToString());
        Assert.Equal("node 2 \"east\" (localhost:6002) updated\n", renamed.Stdout);
        var sent = Assert.Single(monitor.ReceivedOf<UpdateNodeMetadata>(), m => m.Formation == "meta-text");
        Assert.Equal(new UpdateNodeMetadata("meta-text", null, 2, "east", null, 6002), sent);
    }

    [Fact]
    public async Task Set_node_metadata_json_shows_the_node_as_the_monitor_now_holds_it()
    {
        var result = await Pgaf("set", "node", "metadata", "--formation", "meta-json", "--node-id", "2", "--hostname", "10.0.0.2", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.Equal(("meta-json", 2L, "node2", "10.0.0.2", 5502), (root.GetProperty("formation").GetString(), root.GetProperty("node_id").GetInt64(),
            root.GetProperty("nodename").GetString(), root.GetProperty("nodehost").GetString(), root.GetProperty("nodeport").GetInt32()));
        Assert.Equal("node 2 \"node2\" (10.0.0.2:5502) updated", root.GetProperty("message").GetString());
        Assert.Contains("\"message\": \"node 2 \\\"node2\\\" (10.0.0.2:5502) updated\"", result.Stdout); // readable, not \u0022
    }

    [Fact]
    public async Task Set_node_metadata_rejects_bad_arguments_in_one_line_without_sending_and_reports_a_refusal()
    {
        foreach (var (args, error) in new[]
                 {
                     (new[] { "--node-id", "2" }, "pgaf: give at least one of --name, --hostname, --pgport"),
                     (["--node-id", "2", "--name", " "], "pgaf: --name must not be empty"),
                     (["--node-id", "2", "--hostname", ""], "pgaf: --hostname must not be empty"),
                     (["--node-id", "2", "--pgport", "70000"], "pgaf: --pgport must be between 1 and 65535, got 70000"),
                     (["--node-id", "0", "--name", "x"], "pgaf: --node-id must be a positive node id, got 0"),
                 })
        {
            var bad = await Pgaf(["set", "node", "metadata", "--formation", "meta-bad", .. args]);
            Assert.Equal(1, bad.ExitCode);
            Assert.Equal(error, CliRun.SingleErrorLine(bad));
        }
        Assert.DoesNotContain(monitor.ReceivedOf<UpdateNodeMetadata>(), m => m.Formation == "meta-bad");

        var noNode = await Pgaf("set", "node", "metadata", "--formation", "meta-bad", "--name", "x");
        Assert.Equal(1, noNode.ExitCode);
        Assert.Contains("--node-id", CliRun.SingleErrorLine(noNode));

        var refused = await Pgaf("set", "node", "metadata", "--formation", "meta-taken", "--node-id", "2", "--name", "node1");
        Assert.Equal(3, refused.ExitCode);
        Assert.Equal("pgaf: cannot rename node 2: node 1 is already named \"node1\" in formation meta-taken", CliRun.SingleErrorLine(refused));
        Assert.Contains(monitor.ReceivedOf<UpdateNodeMetadata>(), m => m.Formation == "meta-taken");
    }

    [Fact]
    public async Task Replication_quorum_takes_true_or_false()
    {
        var good = await Pgaf("set", "node", "replication-quorum", "--node-id", "7", "false");
        Assert.True(good.ExitCode == 0, good.ToString());
        Assert.Contains(monitor.ReceivedOf<SetReplicationQuorum>(), m => m.NodeId == 7 && !m.ReplicationQuorum);

        var bad = await Pgaf("set", "node", "replication-quorum", "--node-id", "8", "maybe");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("true or false", CliRun.SingleErrorLine(bad));
    }

    [Fact]
    public async Task Number_sync_standbys_is_sent_and_a_negative_one_is_rejected()
    {
        var good = await Pgaf("set", "formation", "number-sync-standbys", "--formation", "nss", "2");
        Assert.True(good.ExitCode == 0, good.ToString());
        Assert.Contains(monitor.ReceivedOf<SetNumberSyncStandbys>(), m => m.Formation == "nss" && m.NumberSyncStandbys == 2);

        var bad = await Pgaf("set", "formation", "number-sync-standbys", "--", "-1");
        Assert.Equal(1, bad.ExitCode);
        CliRun.SingleErrorLine(bad);
    }

    [Fact]
    public async Task Promotion_names_the_node_by_name_or_id_but_not_both()
    {
        var byName = await Pgaf("perform", "promotion", "--formation", "promo", "--name", "node2");
        Assert.True(byName.ExitCode == 0, byName.ToString());
        Assert.Contains(monitor.ReceivedOf<PerformPromotion>(), m => m.Formation == "promo" && m.NodeName == "node2" && m.NodeId is null);

        var byId = await Pgaf("perform", "promotion", "--formation", "promo", "--node-id", "2");
        Assert.True(byId.ExitCode == 0, byId.ToString());
        Assert.Contains(monitor.ReceivedOf<PerformPromotion>(), m => m.Formation == "promo" && m.NodeId == 2 && m.NodeName is null);

        Assert.Equal(1, (await Pgaf("perform", "promotion", "--name", "a", "--node-id", "2")).ExitCode);
        Assert.Equal(1, (await Pgaf("perform", "promotion")).ExitCode);
    }

    [Fact]
    public async Task Maintenance_drop_and_formation_commands_reach_the_monitor()
    {
        Assert.Equal(0, (await Pgaf("enable", "maintenance", "--formation", "mnt", "--node-id", "2", "--allow-failover")).ExitCode);
        Assert.Contains(monitor.ReceivedOf<EnableMaintenance>(), m => m.Formation == "mnt" && m.NodeId == 2 && m.AllowFailover);
        Assert.Equal(0, (await Pgaf("disable", "maintenance", "--formation", "mnt", "--node-id", "2")).ExitCode);
        Assert.Contains(monitor.ReceivedOf<DisableMaintenance>(), m => m.Formation == "mnt" && m.NodeId == 2);

        Assert.Equal(0, (await Pgaf("drop", "node", "--formation", "mnt", "--name", "node3", "--force")).ExitCode);
        Assert.Contains(monitor.ReceivedOf<DropNode>(), m => m.Formation == "mnt" && m.NodeName == "node3" && m.Force);

        var created = await Pgaf("create", "formation", "--formation", "new1", "--dbname", "app", "--number-sync-standbys", "1");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal("formation new1 created\n", created.Stdout);
        Assert.Contains(monitor.ReceivedOf<CreateFormation>(), m => m.Formation == "new1" && m.DatabaseName == "app" && m.NumberSyncStandbys == 1);

        Assert.Equal(0, (await Pgaf("drop", "formation", "--formation", "new1")).ExitCode);
        Assert.Contains(monitor.ReceivedOf<DropFormation>(), m => m.Formation == "new1");

        Assert.Equal(1, (await Pgaf("enable", "maintenance")).ExitCode);
        Assert.Equal(1, (await Pgaf("enable", "maintenance", "--node-id", "0")).ExitCode);
        Assert.Equal(1, (await Pgaf("create", "formation")).ExitCode);
    }

    [Fact]
    public async Task Switchover_with_wait_follows_the_state_until_another_node_is_primary()
    {
        var result = await Pgaf("perform", "switchover", "--formation", "wait-sw", "--wait", "60");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("switchover started in group 0", lines[0]);
        Assert.EndsWith("Current State |      Assigned State", lines[1]);
        Assert.Contains(lines, l => l.Contains(" node1 |") && l.EndsWith("|             primary |            draining"));
        Assert.Contains(lines, l => l.Contains(" node2 |") && l.EndsWith("|             primary |             primary"));
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task A_wait_that_expires_says_so_on_one_line()
    {
        var result = await Pgaf("enable", "maintenance", "--formation", "never", "--node-id", "2", "--wait", "1");

        Assert.Equal(6, result.ExitCode);
        Assert.Equal("pgaf: maintenance of node 2 not reached within 1 s; the monitor carries on (see: pgaf show state)", CliRun.SingleErrorLine(result));
        Assert.StartsWith("node 2 goes to maintenance\n", result.Stdout);
    }

    [Fact]
    public async Task A_monitor_that_does_not_answer_gives_one_line_and_exit_6()
    {
        var silent = await monitor.SilentVirtualHostAsync();
        var result = await CliRun.RunAsync(new Dictionary<string, string?> { ["RABBITMQ_URL"] = silent.ToString() },
            "show", "state", "--timeout", "2");

        Assert.Equal(6, result.ExitCode);
        var line = CliRun.SingleErrorLine(result);
        Assert.StartsWith("pgaf: no answer from the monitor within 2 s (is it running? RABBITMQ_URL=amqp://", line);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task Watch_once_prints_state_and_events()
    {
        var result = await Pgaf("watch", "--once", "--formation", "w1", "--count", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("node1 |     1 | localhost:5501", result.Stdout);
        Assert.Contains("| event number 20", result.Stdout);
        Assert.DoesNotContain("\u001b", result.Stdout);
    }

    [Fact]
    public async Task Watch_refreshes_until_cancelled_and_then_exits_0()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        var result = await CliRun.RunAsync(monitor.Environment, stop.Token, "watch", "--formation", "w2", "--interval", "0.2");

        Assert.True(result.ExitCode == 0, result.ToString());
        var frames = result.Stdout.Split("pgaf watch: formation w2").Length - 1;
        Assert.True(frames >= 2, $"expected several snapshots: {result}");
        Assert.Equal("", result.Stderr);
    }
}
