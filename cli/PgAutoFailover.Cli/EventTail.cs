using System.Reflection;
using MassTransit;
using PgAutoFailover.Cli.Formatting;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// pgaf events tail: the events of docs/events.md as the monitor publishes them, read from a queue of pgaf's own bound
/// to the chosen event exchanges. Without a queue name the queue lives as long as pgaf (events are printed until
/// Ctrl-C); with one it is a durable queue "pgaf-events-&lt;name&gt;" that keeps what is published while pgaf is not
/// running, printed at the next run (which then stops once the queue is idle, or follows with --follow). Copies of an
/// event (at-least-once delivery) share a message id and are printed once.
/// With a webhook, each event is also posted there (its --json line as the body) before it is taken off the queue:
/// a refused or failed post is tried again with a growing pause until it succeeds, so with a durable queue an alert
/// outlives a receiver that is down, and pgaf itself being stopped.
/// </summary>
public sealed class EventTail(TextWriter stdout, TextWriter stderr, bool json, string? formation, Uri? webhook = null)
{
    /// <summary>Every event type a tail can follow.</summary>
    public static readonly IReadOnlyList<Type> Types =
    [
        typeof(PrimaryChanged), typeof(FailoverStarted), typeof(FailoverCompleted), typeof(FailoverBlocked), typeof(NodeHealthChanged),
        typeof(NodeStateChanged), typeof(GoalStateAssigned), typeof(FormationTopologyChanged), typeof(ConnectionStringChanged), typeof(NodeProbed),
    ];

    /// <summary>What an on-call watches by default: roles, failovers, health and states (not probes, snapshots or URIs).</summary>
    public static readonly IReadOnlyList<Type> DefaultTypes = [.. Types.Take(7)];

    /// <summary>The prefix of pgaf's event queues: the operator's broker user may declare and read these alone (docs/operations.md#broker-users).</summary>
    public const string QueuePrefix = "pgaf-events-";

    /// <summary>How long a durable queue must stay quiet before a tail without --follow stops.</summary>
    public static readonly TimeSpan Idle = TimeSpan.FromSeconds(1);

    private static readonly MethodInfo AddHandlerMethod = typeof(EventTail).GetMethod(nameof(AddHandler), BindingFlags.NonPublic | BindingFlags.Instance)!;
    private readonly Lock _write = new();
    private readonly HashSet<Guid> _seen = [];
    private readonly Queue<Guid> _seenOrder = new();
    private long _lastEventAt = Environment.TickCount64;
    private int _inFlight;

    /// <summary>The first pause after a failed post; it doubles up to <see cref="LongestRetryPause"/>.</summary>
    public static readonly TimeSpan FirstRetryPause = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan LongestRetryPause = TimeSpan.FromSeconds(30);

    public async Task<int> RunAsync(string url, string? caFile, TimeSpan timeout, IReadOnlyList<Type> types, string? queue, bool follow,
        CancellationToken cancellationToken)
    {
        var name = QueuePrefix + (queue ?? $"tmp-{Guid.NewGuid():N}");
        var bus = await MonitorClient.StartBusAsync(url, caFile, timeout, rabbit =>
        {
            rabbit.OverrideDefaultBusEndpointQueueName(BrokerNames.BusEndpoint(BrokerNames.Cli));
            rabbit.ReceiveEndpoint(name, endpoint =>
            {
                // Bound to the chosen exchanges only, in publish order (one at a time).
                endpoint.ConfigureConsumeTopology = false;
                endpoint.ConcurrentMessageLimit = 1;
                endpoint.PrefetchCount = 64;
                if (queue is null)
                {
                    endpoint.Durable = false;
                    endpoint.AutoDelete = true;
                }
                foreach (var type in types)
                {
                    endpoint.Bind($"PgAutoFailover.Contracts:{type.Name}");
                    AddHandlerMethod.MakeGenericMethod(type).Invoke(this, [endpoint]);
                }
            });
        }, cancellationToken);
        // Idle counts from now: what waited in the queue arrives within moments of the start.
        Interlocked.Exchange(ref _lastEventAt, Environment.TickCount64);
        try
        {
            if (queue is null || follow)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            else
            {
                while (Volatile.Read(ref _inFlight) > 0 || Environment.TickCount64 - Interlocked.Read(ref _lastEventAt) < (long)Idle.TotalMilliseconds)
                {
                    await Task.Delay(100, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C: the way a tail ends.
        }
        finally
        {
            await bus.DisposeAsync();
        }
        return ExitCodes.Ok;
    }

    private void AddHandler<T>(IReceiveEndpointConfigurator endpoint) where T : class =>
        endpoint.Handler<T>(context => HandleAsync(context.Message, context.MessageId, context.CancellationToken));

    private async Task HandleAsync(object message, Guid? messageId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            Interlocked.Exchange(ref _lastEventAt, Environment.TickCount64);
            if (formation is not null && EventLine.Formation(message) != formation) return;
            lock (_write)
            {
                if (messageId is { } seen && _seen.Contains(seen)) return;
            }
            var line = json || webhook is not null ? EventLine.JsonLine(message, messageId) : null;
            if (webhook is not null) await PostAsync(webhook, line!, cancellationToken);
            lock (_write)
            {
                if (messageId is { } id)
                {
                    if (!_seen.Add(id)) return;
                    _seenOrder.Enqueue(id);
                    if (_seenOrder.Count > 10_000) _seen.Remove(_seenOrder.Dequeue());
                }
                stdout.WriteLine(json ? line : EventLine.Text(message));
                stdout.Flush();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Posts until the receiver answers 2xx; a stop (Ctrl-C) leaves the event on the queue.</summary>
    private async Task PostAsync(Uri url, string body, CancellationToken cancellationToken)
    {
        var pause = FirstRetryPause;
        while (true)
        {
            string failure;
            try
            {
                using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                using var response = await Http.PostAsync(url, content, cancellationToken);
                if (response.IsSuccessStatusCode) return;
                failure = $"answered {(int)response.StatusCode} {response.ReasonPhrase}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                failure = e is TaskCanceledException ? $"did not answer within {Http.Timeout.TotalSeconds:0} s" : e.Message;
            }
            lock (_write)
            {
                stderr.WriteLine($"pgaf: the webhook {url} {failure}; trying again in {pause.TotalSeconds:0.#} s");
                stderr.Flush();
            }
            await Task.Delay(pause, cancellationToken);
            Interlocked.Exchange(ref _lastEventAt, Environment.TickCount64);
            pause = pause * 2 > LongestRetryPause ? LongestRetryPause : pause * 2;
        }
    }
}
