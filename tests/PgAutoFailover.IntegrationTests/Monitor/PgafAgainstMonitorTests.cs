using PgAutoFailover.Cli;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.IntegrationTests.Monitor;

/// <summary>The operator's CLI against the real monitor over the real broker: the contract both sides keep.</summary>
public sealed class PgafAgainstMonitorTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private PgCluster _store = null!;
    private MonitorHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _store = await PgCluster.CreateAsync();
        _harness = await MonitorHarness.StartAsync(broker.AmqpUri, await _store.CreateDatabaseAsync("pg_auto_failover"));
    }

    public async Task DisposeAsync()
    {
        await _harness.DisposeAsync();
        await _store.DisposeAsync();
    }

    private async Task<(int Exit, string Out, string Err)> PgafAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await PgafApp.RunAsync([.. args, "--rabbitmq", broker.AmqpUri.ToString(), "--timeout", "30"], stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Show_state_lists_the_registered_nodes_and_json_carries_the_columns()
    {
        var a = Assert.IsType<NodeRegistered>(await _harness.RegisterAsync("default", 6101, "alpha")).Node;
        await _harness.ReportAsync(a, NodeState.Single, 1);

        var table = await PgafAsync("show", "state");
        Assert.Equal(0, table.Exit);
        Assert.Contains("alpha", table.Out);
        Assert.Contains("127.0.0.1:6101", table.Out);
        Assert.Contains("single", table.Out);
        Assert.Contains("read-write", table.Out);

        var json = await PgafAsync("show", "state", "--json");
        Assert.Equal(0, json.Exit);
        Assert.Contains("\"nodename\"", json.Out);
        Assert.Contains("alpha", json.Out);
    }

    [Fact]
    public async Task A_refused_command_prints_the_monitors_reason_on_one_line_and_fails()
    {
        var a = Assert.IsType<NodeRegistered>(await _harness.RegisterAsync("default", 6201, "lonely")).Node;
        await _harness.ReportAsync(a, NodeState.Single, 1);

        var result = await PgafAsync("perform", "failover");

        Assert.NotEqual(0, result.Exit);
        var line = Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("pgaf: ", line);
    }

    [Fact]
    public async Task Create_formation_show_events_and_settings_work_against_the_monitor()
    {
        Assert.Equal(0, (await PgafAsync("create", "formation", "--formation", "reports", "--dbname", "app")).Exit);
        var duplicate = await PgafAsync("create", "formation", "--formation", "reports");
        Assert.NotEqual(0, duplicate.Exit);
        Assert.Contains("already exists", duplicate.Err);

        var a = Assert.IsType<NodeRegistered>(await _harness.RegisterAsync("reports", 6301, "r1")).Node;
        await _harness.ReportAsync(a, NodeState.Single, 1);

        var events = await PgafAsync("show", "events", "--formation", "reports");
        Assert.Equal(0, events.Exit);
        Assert.Contains("Registering node", events.Out);

        var settings = await PgafAsync("show", "settings", "--formation", "reports");
        Assert.Equal(0, settings.Exit);
        Assert.Contains("number_sync_standbys", settings.Out);
        Assert.Contains("candidate priority", settings.Out);
    }
}
