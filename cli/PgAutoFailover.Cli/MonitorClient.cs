using System.Globalization;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PgAutoFailover.Contracts;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Cli;

/// <summary>
/// A MassTransit bus with no consumers, only request clients: every operator command and query is published
/// as a request and answered by the monitor (a result, <see cref="OperatorCommandSucceeded"/> or
/// <see cref="OperatorCommandRefused"/>). Failures become <see cref="CliFailure"/>s with one clear line.
/// </summary>
public sealed partial class MonitorClient : IAsyncDisposable
{
    private readonly CliBus _bus;
    private readonly TimeSpan _timeout;
    private readonly string _displayUrl;

    private MonitorClient(CliBus bus, TimeSpan timeout, string displayUrl)
    {
        _bus = bus;
        _timeout = timeout;
        _displayUrl = displayUrl;
    }

    public static async Task<MonitorClient> ConnectAsync(string url, string? caFile, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var bus = await StartBusAsync(url, caFile, timeout, rabbit =>
            // The reply queue the operator's broker user may declare and read (docs/operations.md#broker-users).
            rabbit.OverrideDefaultBusEndpointQueueName(BrokerNames.BusEndpoint(BrokerNames.Cli)), cancellationToken);
        return new MonitorClient(bus, timeout, BrokerAddress.Redact(url));
    }

    /// <summary>
    /// A started bus on the broker at <paramref name="url"/>, connected as the services connect (TLS for amqps://),
    /// or a one-line failure (exit 6) when the broker cannot be reached within <paramref name="timeout"/>. As the
    /// services' buses, it reopens its connection when the broker keeps refusing its publishes: a `pgaf watch` that
    /// asked the monitor while a quorum queue elected a new leader would otherwise go unanswered until restarted.
    /// </summary>
    public static async Task<CliBus> StartBusAsync(string url, string? caFile, TimeSpan timeout,
        Action<IRabbitMqBusFactoryConfigurator> configure, CancellationToken cancellationToken)
    {
        var nodes = BrokerAddress.Parse(url);
        var uri = nodes.Uri;
        var display = BrokerAddress.Redact(url);
        if (BrokerTls.Problem(uri, caFile) is { } problem) throw new CliFailure(ExitCodes.BadArguments, problem);
        var services = new ServiceCollection().AddLogging().AddSingleton(RefusedPublishRecovery.ForBus);
        services.AddMassTransit(x => x.UsingRabbitMq((context, rabbit) =>
        {
            rabbit.Host(uri, host =>
            {
                // As the services connect (BusTls.UseBrokerNodes): confirms, and a cluster's nodes in turn.
                host.PublisherConfirmation = true;
                if (nodes.IsCluster) host.UseCluster(cluster => { foreach (var node in nodes.Nodes) cluster.Node(node.ToString()); });
                // As the services connect (BusTls.UseBrokerTls): TLS for amqps:// on any port, the name checked, the CA file alone trusted.
                if (!BrokerTls.Encrypted(uri)) return;
                host.UseSsl(ssl =>
                {
                    ssl.ServerName = uri.Host;
                    if (BrokerTls.Validator(caFile) is { } validate) ssl.CertificateValidationCallback = validate;
                });
            });
            configure(rabbit);
            rabbit.UseRefusedPublishRecovery(context);
        }));
        var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        var cliBus = new CliBus(bus, provider);
        using var startTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        startTimeout.CancelAfter(timeout);
        var watch = new BrokerRefusalWatch();
        using var watching = bus.ConnectReceiveEndpointObserver(watch);
        var start = bus.StartAsync(startTimeout.Token);
        try
        {
            if (await Task.WhenAny(start, watch.Refused) == watch.Refused)
            {
                await startTimeout.CancelAsync();
                await ((Task)start).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await cliBus.DisposeAsync();
                throw new CliFailure(ExitCodes.Unreachable, $"cannot connect to RabbitMQ at {display}: {await watch.Refused} (set --rabbitmq or RABBITMQ_URL)");
            }
            await start;
        }
        catch (Exception error) when (error is not CliFailure)
        {
            await cliBus.DisposeAsync();
            cancellationToken.ThrowIfCancellationRequested();
            var why = error is OperationCanceledException ? "" : $": {FirstLine(error)}";
            throw new CliFailure(ExitCodes.Unreachable,
                $"cannot connect to RabbitMQ at {display} within {Seconds(timeout)} s{why} (set --rabbitmq or RABBITMQ_URL)");
        }
        return cliBus;
    }

    /// <summary>A command: the monitor's one-line message on success; refusal → exit 3; no answer → exit 6.</summary>
    public async Task<string> CommandAsync<TCommand>(TCommand command, CancellationToken cancellationToken) where TCommand : class
    {
        var response = await RequestAsync<TCommand, OperatorCommandSucceeded>(command, cancellationToken);
        return response.Message;
    }

    /// <summary>A query: the monitor's answer of type <typeparamref name="TResult"/>, or a refusal (exit 3).</summary>
    public Task<TResult> QueryAsync<TQuery, TResult>(TQuery query, CancellationToken cancellationToken)
        where TQuery : class where TResult : class =>
        RequestAsync<TQuery, TResult>(query, cancellationToken);

    private async Task<TResult> RequestAsync<TRequest, TResult>(TRequest request, CancellationToken cancellationToken)
        where TRequest : class where TResult : class
    {
        var client = _bus.Bus.CreateRequestClient<TRequest>(RequestTimeout.After(ms: (int)Math.Max(1, _timeout.TotalMilliseconds)));
        try
        {
            // Bounded here too: a request sent while its broker node was being killed was seen never to end by itself
            // (services/service-defaults/BoundedRequests.cs).
            var response = await client.GetResponse<TResult, OperatorCommandRefused>(request, cancellationToken)
                .WaitAsync(_timeout + TimeSpan.FromSeconds(1), cancellationToken);
            if (response.Is(out Response<OperatorCommandRefused>? refused))
                throw new CliFailure(ExitCodes.Refused, refused.Message.Reason);
            if (response.Is(out Response<TResult>? result))
                return result.Message;
            throw new CliFailure(ExitCodes.Internal, $"unexpected answer from the monitor to {typeof(TRequest).Name}");
        }
        catch (Exception e) when (e is RequestTimeoutException or TimeoutException)
        {
            throw new CliFailure(ExitCodes.Unreachable,
                $"no answer from the monitor within {Seconds(_timeout)} s (is it running? RABBITMQ_URL={_displayUrl})");
        }
        catch (RequestFaultException fault)
        {
            var message = fault.Fault?.Exceptions.FirstOrDefault()?.Message ?? fault.Message;
            throw new CliFailure(ExitCodes.Unreachable, $"the monitor failed to handle {typeof(TRequest).Name}: {OneLine(message)}");
        }
    }

    public ValueTask DisposeAsync() => _bus.DisposeAsync();

    public static async Task StopQuietlyAsync(IBusControl bus)
    {
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await bus.StopAsync(stopTimeout.Token);
        }
        catch (Exception)
        {
            // Nothing useful to tell the operator: the command's outcome is already known.
        }
    }

    public static string Seconds(TimeSpan timeout) => timeout.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>
    /// Why the broker could not be reached, in an operator's words. The client library reports a refused password as
    /// "None of the specified endpoints were reachable"; the real cause is further down the chain.
    /// </summary>
    internal static string FirstLine(Exception error)
    {
        if (BrokerRefusal.Classify(error) is { } refused) return refused.Reason;
        var chain = new List<Exception>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            chain.Add(e);
            if (e is AggregateException { InnerExceptions.Count: > 1 } many) chain.AddRange(many.InnerExceptions);
        }
        if (chain.OfType<System.Net.Sockets.SocketException>().FirstOrDefault() is { } socket)
            return socket.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused ? "nothing listens there (connection refused)" : OneLine(socket.Message);
        var inner = error;
        while (inner.InnerException is not null && inner is AggregateException or MassTransitException) inner = inner.InnerException;
        return OneLine(inner.Message);
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
