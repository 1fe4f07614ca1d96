using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using static PgAutoFailover.UriService.Tests.Snapshots;

namespace PgAutoFailover.UriService.Tests;

/// <summary>
/// The uri-service over the real broker and a real HTTP listener, the test playing the monitor.
/// Topology is published until the service shows it: the service's queue may not exist yet when
/// the first copy leaves, and a repeated snapshot version is ignored by design.
/// </summary>
public sealed class UriServiceTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private FakeMonitor _monitor = null!;
    private ServiceHost _service = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _monitor = await FakeMonitor.StartAsync(broker.AmqpUri);
        _monitor.AnswerTopologyWith(Formation("boot", 1, Node(1, NodeState.Single)));
        _service = await StartServiceAsync(broker.AmqpUri);
        _http = new HttpClient { BaseAddress = _service.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _service.DisposeAsync();
        await _monitor.DisposeAsync();
    }

    internal static Task<ServiceHost> StartServiceAsync(Uri broker, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = broker.ToString(),
            ["UriService:InstanceId"] = $"test-{Guid.NewGuid():N}"[..13],
            ["UriService:TopologyRetryDelay"] = "00:00:00.200",
            ["UriService:TopologyRetryMaxDelay"] = "00:00:01",
            ["UriService:WatchHeartbeat"] = "00:00:01",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) settings[key] = value;
        return ServiceHost.StartAsync(UriServiceHost.Telemetry, b => b.AddUriService(), settings);
    }

    [Fact]
    public async Task The_topology_asked_for_at_start_is_served()
    {
        var answer = (JsonElement)await Eventually.ValueAsync(async () => (object?)await GetUriAsync("boot"), "the start-up topology served");
        Assert.Equal("postgres://127.0.0.1:5501/appdb?target_session_attrs=read-write&sslmode=require", answer.GetProperty("uri").GetString());
        Assert.Equal(1, answer.GetProperty("primary").GetProperty("nodeId").GetInt64());
    }

    [Fact]
    public async Task A_topology_change_reaches_the_http_answer_the_sse_stream_and_the_published_event()
    {
        var v1 = Formation("main", 1, Node(1, NodeState.Single));
        await PublishUntilServedAsync(v1);
        using var watch = await SseReader.OpenAsync(_http, "/formations/main/uri/watch");
        var initial = await watch.NextEventAsync();
        Assert.Contains("127.0.0.1:5501/appdb", initial.GetProperty("uri").GetString());

        // A standby joins and the primary moves to wait_primary: the URI gains a host.
        var v2 = Formation("main", 2, Node(1, NodeState.WaitPrimary), Node(2, NodeState.CatchingUp));
        await PublishUntilServedAsync(v2);

        const string expected = "postgres://127.0.0.1:5501,127.0.0.1:5502/appdb?target_session_attrs=read-write&sslmode=require";
        var http = await GetUriAsync("main");
        Assert.Equal(expected, http!.Value.GetProperty("uri").GetString());
        var streamed = await watch.NextEventAsync();
        Assert.Equal(expected, streamed.GetProperty("uri").GetString());
        Assert.Equal(2, streamed.GetProperty("version").GetInt64());
        var published = await Eventually.ValueAsync(() => Task.FromResult(
            _monitor.Observed<ConnectionStringChanged>().FirstOrDefault(e => e.Formation == "main" && e.TopologyVersion == 2)), "ConnectionStringChanged for version 2");
        Assert.Equal(expected, published.ConnectionString);
        Assert.Equal(1, published.Primary?.NodeId);

        var standby = await _http.GetFromJsonAsync<JsonElement>("/formations/main/uri?target=standby");
        Assert.Contains("target_session_attrs=standby", standby.GetProperty("uri").GetString());
        var nodes = await _http.GetFromJsonAsync<JsonElement>("/formations/main/nodes");
        var second = nodes.GetProperty("nodes")[1];
        Assert.Equal("catchingup", second.GetProperty("reportedState").GetString());
        Assert.Equal("standby", second.GetProperty("role").GetString());
        Assert.Equal("1/60", second.GetProperty("lsn").GetString());

        // Noise (the standby catches up, LSNs move) sends no event; the next event is the next real change.
        await PublishUntilServedAsync(Formation("main", 3, Node(1, NodeState.WaitPrimary, lsn: 0x1_0000_0900), Node(2, NodeState.Secondary, lsn: 0x1_0000_0900)));
        await PublishUntilServedAsync(Formation("main", 4, Node(1, NodeState.Primary), Node(2, NodeState.Secondary), Node(3, NodeState.WaitStandby)));
        var next = await watch.NextEventAsync();
        Assert.Equal(4, next.GetProperty("version").GetInt64());
        Assert.EndsWith(",127.0.0.1:5503/appdb?target_session_attrs=read-write&sslmode=require", next.GetProperty("uri").GetString());
    }

    [Fact]
    public async Task Topology_noise_publishes_no_connection_string_change()
    {
        await PublishUntilServedAsync(Formation("quiet", 1, Node(1, NodeState.Primary), Node(2, NodeState.Secondary)));
        await Eventually.TrueAsync(() => Task.FromResult(_monitor.Observed<ConnectionStringChanged>().Any(e => e.Formation == "quiet")), "the first event of formation quiet");
        // LSN and health move; the URI and the primary do not. Then a real change, as a marker.
        await PublishUntilServedAsync(Formation("quiet", 2, Node(1, NodeState.Primary, lsn: 0x2_0000_0000), Node(2, NodeState.Secondary, health: NodeHealth.Bad)));
        await PublishUntilServedAsync(Formation("quiet", 3, Node(1, NodeState.Primary), Node(2, NodeState.Secondary), Node(3, NodeState.CatchingUp)));
        await Eventually.TrueAsync(() => Task.FromResult(_monitor.Observed<ConnectionStringChanged>().Any(e => e.Formation == "quiet" && e.TopologyVersion == 3)), "the event of version 3");
        Assert.DoesNotContain(_monitor.Observed<ConnectionStringChanged>(), e => e.Formation == "quiet" && e.TopologyVersion == 2);
    }

    [Fact]
    public async Task An_unknown_formation_is_a_404_with_a_json_error()
    {
        foreach (var path in new[] { "/formations/nowhere/uri", "/formations/nowhere/nodes", "/formations/nowhere/uri/watch", "/nodes/424242/primary" })
        {
            using var response = await _http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains("unknown", body.GetProperty("error").GetString());
        }
        using var badTarget = await _http.GetAsync("/formations/boot/uri?target=sideways");
        Assert.Equal(HttpStatusCode.BadRequest, badTarget.StatusCode);
    }

    [Fact]
    public async Task A_stale_snapshot_is_ignored()
    {
        await PublishUntilServedAsync(Formation("stale", 5, Node(1, NodeState.Primary), Node(2, NodeState.Secondary)));
        // Version 4 says node 2 is the primary; then a new formation as a marker behind it on the same queue.
        await _monitor.PublishAsync(Formation("stale", 4, Node(1, NodeState.Secondary), Node(2, NodeState.Primary)));
        await PublishUntilServedAsync(Formation("stale-marker", 1, Node(7, NodeState.Single)));

        var nodes = await _http.GetFromJsonAsync<JsonElement>("/formations/stale/nodes");
        Assert.Equal(5, nodes.GetProperty("version").GetInt64());
        Assert.Equal("primary", nodes.GetProperty("nodes")[0].GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/nodes/1/primary")).StatusCode);
        Assert.DoesNotContain(_monitor.Observed<ConnectionStringChanged>(), e => e.Formation == "stale" && e.TopologyVersion == 4);
    }

    [Fact]
    public async Task The_primary_endpoint_flips_along_a_failover_sequence()
    {
        const string f = "flip";
        await PublishUntilServedAsync(Formation(f, 1, Node(11, NodeState.Primary), Node(12, NodeState.Secondary)));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable), await ChecksAsync(11, "primary", 12, "primary"));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable), await ChecksAsync(12, "replica", 11, "replica"));

        // The monitor announces the change first (fast path): the old primary fails /primary at once.
        var old = Node(11, NodeState.Primary).Node with { Formation = f };
        await _monitor.PublishAsync(new PrimaryChanged(f, 0, old, null, 100, DateTimeOffset.UtcNow));
        await Eventually.TrueAsync(async () => (await _http.GetAsync("/nodes/11/primary")).StatusCode == HttpStatusCode.ServiceUnavailable,
            "node 11 failing /primary after PrimaryChanged");

        // Failover: draining / prepare_promotion, then demote_timeout / stop_replication — nobody writes.
        await PublishUntilServedAsync(Formation(f, 2, Node(11, NodeState.Primary, NodeState.Draining), Node(12, NodeState.Secondary, NodeState.PreparePromotion)));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable), await ChecksAsync(11, "primary", 12, "primary"));
        await PublishUntilServedAsync(Formation(f, 3, Node(11, NodeState.Draining, NodeState.DemoteTimeout), Node(12, NodeState.StopReplication)));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable), await ChecksAsync(11, "primary", 12, "primary"));
        await PublishUntilServedAsync(Formation(f, 4, Node(11, NodeState.Demoted), Node(12, NodeState.StopReplication, NodeState.WaitPrimary)));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable), await ChecksAsync(11, "primary", 12, "primary"));

        // The new primary has converged: it alone passes /primary, by id and by name.
        await PublishUntilServedAsync(Formation(f, 5, Node(11, NodeState.Demoted), Node(12, NodeState.WaitPrimary)));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK), await ChecksAsync(11, "primary", 12, "primary"));
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"/formations/{f}/nodes/node_12/primary")).StatusCode);
        var body = await _http.GetFromJsonAsync<JsonElement>("/nodes/12/primary");
        Assert.Equal("wait_primary", body.GetProperty("reportedState").GetString());

        var published = await Eventually.ValueAsync(() => Task.FromResult(
            _monitor.Observed<ConnectionStringChanged>().LastOrDefault(e => e.Formation == f && e.TopologyVersion == 5)), "ConnectionStringChanged naming node 12");
        Assert.Equal(12, published.Primary?.NodeId);
        Assert.StartsWith("postgres://127.0.0.1:5512,127.0.0.1:5511/", published.ConnectionString);
    }

    [Fact]
    public async Task The_service_reports_its_own_health()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/alive")).StatusCode);
        await Eventually.TrueAsync(async () => (await _http.GetAsync("/health")).StatusCode == HttpStatusCode.OK, "/health 200");
        await PublishUntilServedAsync(Formation("metered", 1, Node(1, NodeState.Single)));
        await Eventually.TrueAsync(async () => (await _http.GetStringAsync("/metrics")).Contains("pgaf_uri_topology_snapshots"),
            "the snapshot counter on /metrics");
    }

    private async Task<(HttpStatusCode, HttpStatusCode)> ChecksAsync(long a, string checkA, long b, string checkB)
    {
        using var first = await _http.GetAsync($"/nodes/{a}/{checkA}");
        using var second = await _http.GetAsync($"/nodes/{b}/{checkB}");
        return (first.StatusCode, second.StatusCode);
    }

    private async Task<JsonElement?> GetUriAsync(string formation)
    {
        using var response = await _http.GetAsync($"/formations/{formation}/uri");
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
    }

    private async Task PublishUntilServedAsync(FormationTopologyChanged snapshot)
    {
        await Eventually.TrueAsync(async () =>
        {
            using var response = await _http.GetAsync($"/formations/{snapshot.Formation}/nodes");
            if (response.IsSuccessStatusCode &&
                (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt64() >= snapshot.Version) return true;
            await _monitor.PublishAsync(snapshot);
            await Task.Delay(300);
            return false;
        }, $"version {snapshot.Version} of {snapshot.Formation} served");
    }
}
