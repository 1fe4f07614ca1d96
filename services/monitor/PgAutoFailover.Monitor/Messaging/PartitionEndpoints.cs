using System.Collections.Concurrent;
using System.Globalization;
using MassTransit;
using PgAutoFailover.Contracts;
using RabbitMQ.Client;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// The receive endpoints of the partitions this instance holds (docs/architecture.md#groups-spread-over-monitors): one
/// quorum queue per partition, bound to <see cref="MonitorPartitions.Exchange"/> with the partition as routing key,
/// taking keeper reports and probes. Connected when a partition is taken, stopped before it is let go; the queue stays,
/// keeping what arrives until the next holder connects.
/// </summary>
public sealed partial class PartitionEndpoints
{
    private readonly IReceiveEndpointConnector _connector;
    private readonly BrokerSideConnection _broker;
    private readonly ILogger<PartitionEndpoints> _logger;

    public PartitionEndpoints(IReceiveEndpointConnector connector, BrokerSideConnection broker, ILogger<PartitionEndpoints> logger)
    {
        _connector = connector;
        _broker = broker;
        _logger = logger;
        // A new connection may reach a broker node that lost what was declared: declare again.
        broker.Reopened += () => _routingDeclared = false;
    }

    /// <summary>How long the endpoints being started may take to be ready before the start moves on (they keep starting).</summary>
    private static readonly TimeSpan ReadyWait = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<int, HostReceiveEndpointHandle> _endpoints = new();
    private volatile bool _routingDeclared;

    /// <summary>Whether <see cref="DeclareRoutingAsync"/> has declared the routing on the current broker connection.</summary>
    public bool RoutingDeclared => _routingDeclared;

    /// <summary>
    /// The exchange that routes by partition, bound from the exchanges reports and probes are published to. A message
    /// with no partition for routing key (a publisher that does not set one) goes to partition 0 (the exchange's
    /// alternate), so none is dropped. The endpoints the monitor had before partitions, bound to the same exchanges,
    /// would keep a copy of every message for no consumer: they are deleted.
    /// </summary>
    public async Task DeclareRoutingAsync(CancellationToken cancellationToken)
    {
        if (_routingDeclared) return;
        await using var channel = await (await _broker.GetAsync(cancellationToken)).CreateChannelAsync(cancellationToken: cancellationToken);
        var fallback = MonitorPartitions.Queue(0);
        await channel.ExchangeDeclareAsync(MonitorPartitions.Exchange, ExchangeType.Direct, durable: true, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["alternate-exchange"] = fallback }, cancellationToken: cancellationToken);
        // Every partition's queue, its exchange and their bindings, as its endpoint declares them: what a keeper sends
        // before any instance first held the partition waits in its queue instead of being dropped.
        for (var partition = 0; partition < MonitorPartitions.Count; partition++)
        {
            var name = MonitorPartitions.Queue(partition);
            await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false,
                new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: cancellationToken);
            await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(name, name, "", cancellationToken: cancellationToken);
            await channel.ExchangeBindAsync(name, MonitorPartitions.Exchange, partition.ToString(CultureInfo.InvariantCulture),
                cancellationToken: cancellationToken);
        }
        foreach (var source in new[] { MessageExchange<ReportNodeState>(), MessageExchange<NodeProbed>() })
        {
            await channel.ExchangeDeclareAsync(source, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.ExchangeBindAsync(MonitorPartitions.Exchange, source, "", cancellationToken: cancellationToken);
        }
        foreach (var legacy in new[] { "report-node-state", "node-probed" })
        {
            await channel.ExchangeDeleteAsync(legacy, cancellationToken: cancellationToken);
            await channel.QueueDeleteAsync(legacy, cancellationToken: cancellationToken);
        }
        _routingDeclared = true;
    }

    /// <summary>The partitions whose endpoint is connected (ready or still starting).</summary>
    public IReadOnlyCollection<int> Connected => [.. _endpoints.Keys];

    /// <summary>Whether partition <paramref name="partition"/>'s endpoint is connected and consuming.</summary>
    public bool IsConsuming(int partition) =>
        _endpoints.TryGetValue(partition, out var handle) && handle.Ready.IsCompletedSuccessfully;

    /// <summary>
    /// Connects the endpoints of <paramref name="partitions"/> not yet connected, then waits for them to be ready
    /// together (one at a time, 16 partitions taken at a start would wait 16 times).
    /// </summary>
    public async Task StartAsync(IEnumerable<int> partitions, CancellationToken cancellationToken)
    {
        var started = new List<(int Partition, HostReceiveEndpointHandle Handle)>();
        foreach (var partition in partitions.Where(p => !_endpoints.ContainsKey(p)))
        {
            var handle = Connect(partition);
            _endpoints[partition] = handle;
            started.Add((partition, handle));
        }
        await Task.WhenAll(started.Select(async s =>
        {
            try
            {
                await s.Handle.Ready.WaitAsync(ReadyWait, cancellationToken);
            }
            catch (TimeoutException)
            {
                Log.EndpointSlow(_logger, s.Partition, ReadyWait);
            }
        }));
    }

    private HostReceiveEndpointHandle Connect(int partition)
    {
        var key = partition.ToString(CultureInfo.InvariantCulture);
        return _connector.ConnectReceiveEndpoint(MonitorPartitions.Queue(partition), (context, endpoint) =>
        {
            endpoint.ConfigureConsumeTopology = false;
            if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
            {
                rabbit.Bind(MonitorPartitions.Exchange, binding =>
                {
                    binding.ExchangeType = ExchangeType.Direct;
                    binding.RoutingKey = key;
                    binding.SetExchangeArgument("alternate-exchange", MonitorPartitions.Queue(0));
                });
            }
            endpoint.ConfigureConsumer<ReportNodeStateConsumer>(context);
            endpoint.ConfigureConsumer<NodeProbedConsumer>(context);
        });
    }

    /// <summary>Stops partition <paramref name="partition"/>'s endpoint: messages being handled finish, the rest stay queued.</summary>
    public async Task StopAsync(int partition, CancellationToken cancellationToken)
    {
        if (_endpoints.TryRemove(partition, out var handle)) await handle.StopAsync(cancellationToken);
    }

    private static string MessageExchange<T>() => $"{typeof(T).Namespace}:{typeof(T).Name}";

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "The endpoint of partition {Partition} was not ready within {Wait}; it keeps starting")]
        public static partial void EndpointSlow(ILogger logger, int partition, TimeSpan wait);
    }
}
