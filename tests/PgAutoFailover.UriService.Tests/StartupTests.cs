using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using static PgAutoFailover.UriService.Tests.Snapshots;

namespace PgAutoFailover.UriService.Tests;

/// <summary>Start-up while the monitor is down: the service serves at once and keeps asking.</summary>
public sealed class StartupTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task Starts_without_a_monitor_and_picks_the_topology_up_when_one_answers()
    {
        await using var monitor = await FakeMonitor.StartAsync(broker.AmqpUri);
        monitor.AnswerTopologyWith(null);
        await using var service = await UriServiceTests.StartServiceAsync(broker.AmqpUri);
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive")).StatusCode);
        await Eventually.TrueAsync(() => Task.FromResult(monitor.TopologyRequests >= 2), "a second GetTopology after the first went unanswered");
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/formations/late/uri")).StatusCode);

        monitor.AnswerTopologyWith(Formation("late", 3, Node(1, NodeState.Primary), Node(2, NodeState.Secondary)));
        var answer = await Eventually.ValueAsync(async () =>
        {
            using var response = await http.GetAsync("/formations/late/uri?target=any");
            return response.IsSuccessStatusCode ? (object)await response.Content.ReadFromJsonAsync<JsonElement>() : null;
        }, "the topology of formation late");
        Assert.Equal("postgres://127.0.0.1:5501,127.0.0.1:5502/appdb?target_session_attrs=any&sslmode=require",
            ((JsonElement)answer).GetProperty("uri").GetString());
        await Eventually.TrueAsync(() => Task.FromResult(monitor.Observed<ConnectionStringChanged>().Any(e => e.Formation == "late" && e.Primary!.NodeId == 1)),
            "ConnectionStringChanged for the start-up topology");
    }
}
