using System.Collections.Concurrent;
using JasperFx.Events;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor;
using PgAutoFailover.Monitor.Groups;
using PgAutoFailover.Monitor.Queries;
using PgAutoFailover.Monitor.Store;
using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.Testing;

namespace PgAutoFailover.IntegrationTests.Monitor;

/// <summary>
/// A real monitor (in-process host, real broker, real PostgreSQL store) and a test-side bus that plays
/// keepers and operators: it sends requests and records every event the monitor publishes.
/// </summary>
public sealed class MonitorHarness : IAsyncDisposable
{
    private readonly List<ServiceHost> _monitors = [];
    private readonly IBusControl _bus;

    private MonitorHarness(Uri amqp, string storeConnection, IBusControl bus, Recorder recorder)
    {
        Amqp = amqp;
        StoreConnection = storeConnection;
        _bus = bus;
        Published = recorder;
    }

    public Uri Amqp { get; }
    public string StoreConnection { get; }
    public Recorder Published { get; }
    public IBus Bus => _bus;
    public ServiceHost Monitor => _monitors[0];
    public IReadOnlyList<ServiceHost> Monitors => _monitors;

    public static async Task<MonitorHarness> StartAsync(Uri amqp, string storeConnection, int instances = 1,
        IDictionary<string, string?>? settings = null, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? adjust = null)
    {
        var recorder = new Recorder();
        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(amqp);
            rabbit.UseMonitorPartitionRouting(); // as keepers and health-checkers publish
            rabbit.ReceiveEndpoint($"test-observer-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.Handler<GoalStateAssigned>(c => recorder.Add(c.Message));
                endpoint.Handler<NodeStateChanged>(c => recorder.Add(c.Message));
                endpoint.Handler<NodeHealthChanged>(c => recorder.Add(c.Message));
                endpoint.Handler<PrimaryChanged>(c => recorder.Add(c.Message));
                endpoint.Handler<FailoverStarted>(c => recorder.Add(c.Message));
                endpoint.Handler<FailoverCompleted>(c => recorder.Add(c.Message));
                endpoint.Handler<FailoverBlocked>(c => recorder.Add(c.Message));
                endpoint.Handler<FormationTopologyChanged>(c => recorder.Add(c.Message));
            });
        });
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        var harness = new MonitorHarness(amqp, storeConnection, bus, recorder);
        for (var i = 0; i < instances; i++) await harness.StartMonitorAsync(settings, adjust);
        return harness;
    }

    public async Task<ServiceHost> StartMonitorAsync(IDictionary<string, string?>? settings = null,
        Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? adjust = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["RABBITMQ_URL"] = Amqp.ToString(),
            ["ConnectionStrings:MonitorStore"] = StoreConnection,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        var host = await ServiceHost.StartAsync(MonitorService.Telemetry, b => b.AddMonitor(), all, adjust, app => app.MapReadApi());
        _monitors.Add(host);
        // A report published before the first instance declared the partitions' routing would be dropped (a keeper
        // would send it again; a test would wait for its answer in vain).
        var owner = host.Services.GetRequiredService<PartitionOwner>();
        await Eventually.TrueAsync(() => Task.FromResult(owner.RoutingDeclared), "the partitions' routing declared", TimeSpan.FromSeconds(60));
        return host;
    }

    public async Task StopMonitorAsync(ServiceHost host)
    {
        _monitors.Remove(host);
        await host.DisposeAsync();
    }

    // Generous: the two-instance test sends 300 requests at once, and a loaded 2-core box answers the last of them late.
    private static readonly RequestTimeout AnswerTimeout = RequestTimeout.After(s: 45);

    public async Task<TResponse> RequestAsync<TRequest, TResponse>(TRequest request)
        where TRequest : class where TResponse : class
    {
        var client = _bus.CreateRequestClient<TRequest>(AnswerTimeout);
        var response = await client.GetResponse<TResponse>(request);
        return response.Message;
    }

    /// <summary>A request answered by one of two types; returns whichever came.</summary>
    public async Task<object> RequestAsync<TRequest, T1, T2>(TRequest request)
        where TRequest : class where T1 : class where T2 : class
    {
        var client = _bus.CreateRequestClient<TRequest>(AnswerTimeout);
        var response = await client.GetResponse<T1, T2>(request);
        if (response.Is(out Response<T1>? first)) return first!.Message;
        return response.Is(out Response<T2>? second) ? second!.Message : throw new InvalidOperationException("unexpected response");
    }

    public Task<object> RegisterAsync(string formation, int port, string? name = null, int priority = 50, bool quorum = true) =>
        RequestAsync<RegisterNode, NodeRegistered, RegistrationRejected>(
            new RegisterNode(formation, null, name, "127.0.0.1", port, "postgres", null, priority, quorum, null, NodeState.Init));

    public Task<object> ReportAsync(NodeAddress node, NodeState state, long sequence, ulong lsn = 0x3000000, string repState = "", bool running = true,
        string? lastError = null, string? progress = null, long epoch = 0) =>
        RequestAsync<ReportNodeState, NodeGoal, NodeReportRejected>(
            new ReportNodeState(node.Formation, node.GroupId, node.NodeId, state, running, 1, lsn, repState, null, sequence, DateTimeOffset.UtcNow,
                lastError, progress, epoch));

    /// <summary>
    /// A report sent straight to partition <paramref name="partition"/>'s queue, whichever partition the node's group is in:
    /// how a test makes an instance that does not hold the group decide on it (as one that hangs, then resumes, does).
    /// </summary>
    public async Task<object> ReportThroughAsync(int partition, NodeAddress node, NodeState state, long sequence, string repState = "")
    {
        var client = _bus.CreateRequestClient<ReportNodeState>(new Uri($"exchange:{MonitorPartitions.Queue(partition)}"), AnswerTimeout);
        var response = await client.GetResponse<NodeGoal, NodeReportRejected>(
            new ReportNodeState(node.Formation, node.GroupId, node.NodeId, state, true, 1, 0x3000000, repState, null, sequence, DateTimeOffset.UtcNow,
                null, null, 0));
        if (response.Is(out Response<NodeGoal>? goal)) return goal!.Message;
        return response.Is(out Response<NodeReportRejected>? rejected) ? rejected!.Message : throw new InvalidOperationException("unexpected response");
    }

    /// <summary>The partitions each monitor instance holds, once every partition is held by one of them.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<int>>> PartitionsAsync()
    {
        IReadOnlyList<IReadOnlyList<int>>? held = null;
        await Eventually.TrueAsync(() =>
        {
            held = [.. _monitors.Select(m => m.Services.GetRequiredService<PartitionOwner>().Held)];
            return Task.FromResult(held.Sum(h => h.Count) == MonitorPartitions.Count && held.All(h => h.Count > 0));
        }, "every partition held, each instance holding some", TimeSpan.FromSeconds(60));
        return held!;
    }

    /// <summary>The group's stored events, read straight from the store with a fresh session.</summary>
    public async Task<IReadOnlyList<IEvent>> StreamAsync(string formation, int groupId = 0)
    {
        await using var session = Monitor.Services.GetRequiredService<IDocumentStore>().QuerySession();
        return await session.Events.FetchStreamAsync(GroupStream.Key(formation, groupId));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _monitors.ToList()) await host.DisposeAsync();
        await _bus.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
    }

    public sealed class Recorder
    {
        private readonly ConcurrentQueue<object> _messages = new();

        public Task Add(object message)
        {
            _messages.Enqueue(message);
            return Task.CompletedTask;
        }

        public IReadOnlyList<T> Of<T>() => _messages.OfType<T>().ToList();
    }
}
