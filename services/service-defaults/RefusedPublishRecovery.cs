using MassTransit;
using MassTransit.RabbitMqTransport;
using MassTransit.RabbitMqTransport.Configuration;
using MassTransit.Transports;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// Reopens the process's broker connection when the broker keeps refusing (negative confirms) its publishes. With
/// RabbitMQ 3.10 (Debian 12's), a channel that published to a quorum queue while the queue was electing a new leader,
/// its old leader's node just killed, has every later publish to that queue refused for as long as that node stays
/// down, while the queue serves every other channel and a new channel publishes at once
/// (docs/operations.md#a-broker-cluster). MassTransit keeps such a channel: a health-checker whose probes, or a keeper
/// whose reports, were caught so would not be heard again, and no failover would start. Closing the connection makes
/// MassTransit reconnect with new channels, as after a broker restart (its receive endpoints come back within
/// <c>BrokerReconnectSchedule</c>'s delays).
/// Refusals are counted for the whole process, not per destination address: one exchange routes to several quorum
/// queues (the monitor's partitions), and publishes taken by one of them say nothing of the channel's state for another.
/// A refusal for another cause (a queue without a majority) is not mended by a new connection: the pause between two
/// reopenings doubles, from <see cref="FirstPause"/> to <see cref="LongestPause"/>, and starts again from the first once
/// no publish was refused for <see cref="LongestPause"/>.
/// </summary>
public sealed partial class RefusedPublishRecovery : ISendObserver, IPublishObserver
{
    /// <summary>
    /// Refusals within <see cref="Window"/> (the process's, whatever their destinations) before the connection is
    /// reopened: one may be the election's own. MassTransit retries a refused send about every 1.5 s, so a stuck channel
    /// gives the second that much after the first.
    /// </summary>
    public const int Refusals = 2;

    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReopenTimeout = TimeSpan.FromSeconds(5);

    private readonly Func<CancellationToken, Task<string?>> _reopen;
    private readonly TimeProvider _time;
    private readonly ILogger<RefusedPublishRecovery> _logger;
    private readonly Lock _gate = new();
    private readonly Queue<long> _refusedAt = new();
    private readonly Queue<Guid> _counted = new();
    private TimeSpan _pause = FirstPause;
    private long _notBefore;
    private long _lastRefusal;
    private bool _reopening;
    private int _reopenings;

    /// <param name="reopen">Closes the connection (MassTransit then opens another); returns the broker it was to, or null when there was none open.</param>
    public RefusedPublishRecovery(TimeProvider time, ILogger<RefusedPublishRecovery> logger, Func<CancellationToken, Task<string?>> reopen)
    {
        _time = time;
        _logger = logger;
        _reopen = reopen;
    }

    /// <summary>The recovery of the bus of <paramref name="services"/>: its RabbitMQ host's connection is the one reopened.</summary>
    public static RefusedPublishRecovery ForBus(IServiceProvider services) =>
        new(services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetRequiredService<ILogger<RefusedPublishRecovery>>(),
            cancellationToken => CloseBusConnectionAsync(services, cancellationToken));

    private static async Task<string?> CloseBusConnectionAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<IBusInstance>()?.HostConfiguration is not IRabbitMqHostConfiguration host) return null;
        IConnection? connection = null;
        // Only read the connection inside the supervisor's pipe: closing it there would wait on itself.
        await host.ConnectionContextSupervisor.Send(Pipe.Execute<ConnectionContext>(c => connection = c.Connection), cancellationToken);
        if (connection is not { IsOpen: true }) return null;
        await connection.CloseAsync(Constants.ReplySuccess, "pgaf: reopening after refused publishes", ReopenTimeout, abort: true, cancellationToken);
        return connection.Endpoint.ToString();
    }

    /// <summary>How many times the connection was reopened (for tests and the log).</summary>
    public int Reopenings => Volatile.Read(ref _reopenings);

    /// <summary>A negative confirm: the broker took the publish and refused it (not a return of an unroutable message).</summary>
    public static bool IsRefusal(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is RabbitMQ.Client.Exceptions.PublishException { IsReturn: false }) return true;
        }
        return false;
    }

    public Task PreSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

    public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;

    public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class =>
        Refused(context.MessageId, context.DestinationAddress, exception);

    public Task PrePublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

    public Task PostPublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;

    /// <summary>
    /// A publish's failure: probes, reports and requests are published, and MassTransit 8.5 tells a publish's failure to
    /// the publish observers, not the send observers. Should it tell both, the message's id counts it once.
    /// </summary>
    public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class =>
        Refused(context.MessageId, context.DestinationAddress, exception);

    private Task Refused(Guid? messageId, Uri? destination, Exception exception)
    {
        if (!IsRefusal(exception)) return Task.CompletedTask;
        int refusals;
        lock (_gate)
        {
            if (messageId is { } id)
            {
                if (_counted.Contains(id)) return Task.CompletedTask;
                _counted.Enqueue(id);
                if (_counted.Count > 64) _counted.Dequeue();
            }
            var now = _time.GetTimestamp();
            if (_lastRefusal != 0 && _time.GetElapsedTime(_lastRefusal, now) >= LongestPause) _pause = FirstPause;
            _lastRefusal = now;
            _refusedAt.Enqueue(now);
            while (_time.GetElapsedTime(_refusedAt.Peek(), now) > Window) _refusedAt.Dequeue();
            refusals = _refusedAt.Count;
            if (refusals < Refusals || _reopening || now < _notBefore) return Task.CompletedTask;
            _reopening = true;
            _refusedAt.Clear();
            _notBefore = now + (long)(_pause.TotalSeconds * _time.TimestampFrequency);
            _pause = TimeSpan.FromTicks(Math.Min(_pause.Ticks * 2, LongestPause.Ticks));
        }
        _ = Task.Run(() => ReopenAsync(destination, refusals));
        return Task.CompletedTask;
    }

    private async Task ReopenAsync(Uri? destination, int refusals)
    {
        string? broker = null, failure = null;
        try
        {
            using var timeout = new CancellationTokenSource(ReopenTimeout * 2);
            broker = await _reopen(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or RabbitMQClientException or MassTransitException or ObjectDisposedException)
        {
            failure = e.Message;
        }
        lock (_gate) _reopening = false;
        if (failure is not null) Log.ReopenFailed(_logger, destination, failure);
        if (broker is null) return;
        Interlocked.Increment(ref _reopenings);
        Log.Reopened(_logger, refusals, destination, broker);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning,
            Message = "The broker refused {Refusals} publishes within 10 s, the last to {Destination}: closed the connection to {Broker} for one with new channels (docs/operations.md#a-broker-cluster)")]
        public static partial void Reopened(ILogger logger, int refusals, Uri? destination, string broker);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not reopen the broker connection after refused publishes to {Destination}: {Reason}")]
        public static partial void ReopenFailed(ILogger logger, Uri? destination, string reason);
    }
}

public static class RefusedPublishRecoveryExtensions
{
    /// <summary>
    /// Watches the bus's sends and publishes with the <see cref="RefusedPublishRecovery"/> registered in
    /// <paramref name="context"/> (<c>services.AddSingleton(RefusedPublishRecovery.ForBus)</c>), which reopens the bus's
    /// connection when the broker keeps refusing them.
    /// </summary>
    public static void UseRefusedPublishRecovery(this IBusFactoryConfigurator bus, IServiceProvider context)
    {
        var recovery = context.GetRequiredService<RefusedPublishRecovery>();
        bus.ConnectSendObserver(recovery);
        bus.ConnectPublishObserver(recovery);
    }
}
