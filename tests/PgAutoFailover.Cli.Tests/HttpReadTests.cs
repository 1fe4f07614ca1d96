using System.Net.Sockets;
using System.Net;
using System.Text.Json;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// Read-only commands ask the monitor's HTTP read API first (no bus client), believe only a monitor on the
/// broker they were given, and otherwise ask over RabbitMQ. The HTTP side is played by an HttpListener.
/// </summary>
public sealed class HttpReadTests(OperatorMonitor monitor) : IClassFixture<OperatorMonitor>
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task Show_state_is_answered_over_http_by_a_monitor_on_the_same_broker_without_touching_the_bus()
    {
        var broker = "amqp://guest:guest@127.0.0.1:1/nowhere"; // no broker there: any bus use would fail
        await using var http = await FakeHttpMonitor.StartAsync(MonitorReadApi.BrokerIdentity(new Uri(broker)));

        var result = await CliRun.RunAsync(new Dictionary<string, string?> { ["RABBITMQ_URL"] = broker, ["PGAF_MONITOR"] = http.Url },
            "show", "state", "--formation", "sales", "--timeout", "3");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("node2 |     2 | localhost:5502 |", result.Stdout);
        Assert.Equal(["/formations/sales/state"], http.Paths);
    }

    [Fact]
    public async Task A_monitor_slower_to_answer_than_to_accept_is_still_read_over_http()
    {
        // Connecting has a 1 s limit (a silent port falls back to the bus quickly); the answer has the command's.
        var broker = "amqp://guest:guest@127.0.0.1:1/nowhere"; // no broker there: any bus use would fail
        await using var http = await FakeHttpMonitor.StartAsync(MonitorReadApi.BrokerIdentity(new Uri(broker)), TimeSpan.FromSeconds(2));

        var result = await CliRun.RunAsync(new Dictionary<string, string?> { ["RABBITMQ_URL"] = broker, ["PGAF_MONITOR"] = http.Url },
            "show", "state", "--formation", "sales", "--timeout", "30");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("node2 |     2 | localhost:5502 |", result.Stdout);
    }

    [Fact]
    public async Task Events_and_settings_go_over_http_too_and_an_unknown_formation_is_one_refusal_line()
    {
        var broker = "amqp://guest:guest@127.0.0.1:1/nowhere";
        await using var http = await FakeHttpMonitor.StartAsync(MonitorReadApi.BrokerIdentity(new Uri(broker)));
        var environment = new Dictionary<string, string?> { ["RABBITMQ_URL"] = broker, ["PGAF_MONITOR"] = http.Url };

        var events = await CliRun.RunAsync(environment, "show", "events", "--formation", "sales", "--group", "0", "--count", "2", "--timeout", "3");
        Assert.True(events.ExitCode == 0, events.ToString());
        Assert.Contains("New state is reported by node 1", events.Stdout);
        var settings = await CliRun.RunAsync(environment, "show", "settings", "--formation", "sales", "--timeout", "3");
        Assert.True(settings.ExitCode == 0, settings.ToString());
        Assert.Contains("number_sync_standbys", settings.Stdout);

        var missing = await CliRun.RunAsync(environment, "show", "state", "--formation", "nope", "--timeout", "3");
        Assert.Equal(ExitCodes.Refused, missing.ExitCode);
        Assert.Equal("pgaf: formation \"nope\" does not exist", CliRun.SingleErrorLine(missing));
        Assert.Equal(["/formations/sales/events?count=2&group=0", "/formations/sales/settings", "/formations/nope/state"], http.Paths);
    }

    [Fact]
    public async Task A_monitor_of_another_broker_is_not_believed_the_question_goes_over_the_bus()
    {
        await using var http = await FakeHttpMonitor.StartAsync("127.0.0.1:5672/another-cluster");
        var environment = new Dictionary<string, string?>(monitor.Environment) { ["PGAF_MONITOR"] = http.Url };

        var result = await CliRun.RunAsync(environment, "show", "state", "--formation", "sales");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Single(http.Paths);
        Assert.Contains(monitor.ReceivedOf<GetFormationState>(), m => m.Formation == "sales");
    }

    [Fact]
    public async Task Nothing_listening_at_the_monitor_address_means_the_bus_answers()
    {
        var environment = new Dictionary<string, string?>(monitor.Environment) { ["PGAF_MONITOR"] = $"http://127.0.0.1:{FreePort()}" };

        var result = await CliRun.RunAsync(environment, "show", "state", "--formation", "sales", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, JsonDocument.Parse(result.Stdout).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task A_monitor_address_that_is_not_http_is_a_usage_error()
    {
        var result = await CliRun.RunAsync("show", "state", "--monitor", "ftp://x");

        Assert.Equal(ExitCodes.BadArguments, result.ExitCode);
        Assert.Equal("pgaf: the monitor address \"ftp://x\" is not an http:// or https:// URL", CliRun.SingleErrorLine(result));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Serves FakeMonitor's answers on the read API's paths with the given broker header; records the paths asked.</summary>
    private sealed class FakeHttpMonitor : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly string _broker;
        private readonly Task _loop;
        private readonly List<string> _paths = [];

        private readonly TimeSpan _answerDelay;

        private FakeHttpMonitor(int port, string broker, TimeSpan answerDelay)
        {
            Url = $"http://127.0.0.1:{port}";
            _broker = broker;
            _answerDelay = answerDelay;
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public string Url { get; }
        public IReadOnlyList<string> Paths { get { lock (_paths) return [.. _paths]; } }

        public static Task<FakeHttpMonitor> StartAsync(string broker, TimeSpan answerDelay = default) =>
            Task.FromResult(new FakeHttpMonitor(FreePort(), broker, answerDelay));

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                if (_answerDelay > TimeSpan.Zero) await Task.Delay(_answerDelay);
                var path = context.Request.Url!.PathAndQuery;
                lock (_paths) _paths.Add(path);
                var formation = path.Split('/')[2];
                object? body = formation == "nope" ? null : path.Split('?')[0].Split('/')[3] switch
                {
                    "state" => FakeMonitor.State(formation),
                    "events" => new FormationEvents(formation, [new FormationEvent(7, FakeMonitor.EventTime, formation, 0, 1, "node1",
                        NodeState.Primary, NodeState.Unknown, "New state is reported by node 1: \"primary\"")]),
                    "settings" => new FormationSettings(formation, [new NodeSetting("formation", formation, "number_sync_standbys", "0")]),
                    _ => null,
                };
                context.Response.Headers[MonitorReadApi.BrokerHeader] = _broker;
                context.Response.StatusCode = body is null ? 404 : 200;
                context.Response.ContentType = "application/json";
                var json = JsonSerializer.SerializeToUtf8Bytes(body ?? new OperatorCommandRefused(formation, $"formation \"{formation}\" does not exist"), Web);
                await context.Response.OutputStream.WriteAsync(json);
                context.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
        }
    }
}
