using System.Collections.Concurrent;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.ServiceDefaults;
using RabbitMQ.Client.Exceptions;
using AmqpReply = RabbitMQ.Client.Constants;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// Checks, before the monitor answers a request, that its response address can be answered. Answering declares the
/// address's exchange; one that exists with other arguments makes the broker close the channel (PRECONDITION_FAILED),
/// and since the monitor answers on the channel it consumes from, the request came back, failed again, and every
/// receive endpoint of the monitor ended up stopped (issue 13 defect 2). The check declares the exchange as the answer
/// would, on a channel of its own that may be closed, and remembers the verdict per address. Addresses that ask for
/// a queue to be bound or a delayed exchange are not answered: no requester of ours sends one. Addresses in another
/// virtual host are answered as before, unchecked.
/// </summary>
public sealed partial class ResponseAddressGuard(BusOptions bus, BrokerSideConnection broker, ILogger<ResponseAddressGuard> logger)
{
    private const int MaxRemembered = 10_000;
    private readonly ConcurrentDictionary<Uri, string> _verdicts = new();
    private readonly Uri _host = BrokerNodes.Parse(bus.Url).Uri;

    /// <summary>Why <paramref name="address"/> cannot be answered, or null when it can.</summary>
    public async ValueTask<string?> ProblemAsync(Uri address, CancellationToken cancellationToken)
    {
        if (_verdicts.TryGetValue(address, out var known)) return known.Length == 0 ? null : known;
        var (problem, lasting) = await CheckAsync(address, cancellationToken);
        // A keeper answers to one address for its whole run, so a report costs the check once. CLI runs come and go.
        // Only what the broker said of the address itself is remembered: a check cut short by a broker going away
        // says nothing about it, and remembering it as a problem dropped that keeper's every later report.
        if (!lasting) return problem;
        if (_verdicts.Count >= MaxRemembered) _verdicts.Clear();
        _verdicts[address] = problem ?? "";
        return problem;
    }

    private async Task<(string? Problem, bool Lasting)> CheckAsync(Uri address, CancellationToken cancellationToken)
    {
        RabbitMqEndpointAddress endpoint;
        try
        {
            endpoint = new RabbitMqEndpointAddress(_host, address);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or UriFormatException)
        {
            return ($"response address {address} is not a RabbitMQ address ({e.Message})", true);
        }
        // Only what this connection can see is checked: a requester may name the same broker by another host name
        // (an address, a load balancer), and its answer is sent as before.
        var vhost = Uri.UnescapeDataString(_host.AbsolutePath.TrimStart('/'));
        if (endpoint.VirtualHost != (vhost.Length == 0 ? "/" : vhost)) return (null, true);
        if (endpoint.BindToQueue || endpoint.DelayedType is not null)
            return ($"response address {address} asks for a queue or a delayed exchange to be declared", true);

        try
        {
            var connection = await broker.GetAsync(cancellationToken);
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            try
            {
                await channel.ExchangeDeclarePassiveAsync(endpoint.Name, cancellationToken);
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == AmqpReply.NotFound)
            {
                return (null, true); // no such exchange: answering creates it, with the arguments it asks for
            }
            await using var declare = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            var arguments = endpoint.AlternateExchange is { } alternate ? new Dictionary<string, object?> { ["alternate-exchange"] = alternate } : null;
            await declare.ExchangeDeclareAsync(endpoint.Name, endpoint.ExchangeType, endpoint.Durable, endpoint.AutoDelete, arguments,
                cancellationToken: cancellationToken);
            return (null, true);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == AmqpReply.AccessRefused)
        {
            // A reply queue the monitor's broker user may not write to (docs/operations.md#broker-users).
            return ($"response address {address} is not one the monitor's broker user may answer ({e.ShutdownReason.ReplyText})", true);
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == AmqpReply.PreconditionFailed)
        {
            return ($"response address {address} names an exchange declared with other arguments ({e.ShutdownReason.ReplyText})", true);
        }
        catch (Exception e) when (e is OperationInterruptedException or BrokerUnreachableException or IOException)
        {
            // The broker went away (a connection reset, a node shutting down): the answer would fail as well, and
            // MassTransit's redelivery is then right. The next request from this address is checked again.
            Log.ResponseAddressNotChecked(logger, address, e.Message);
            return (null, false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Could not check response address {Address}, answering it unchecked: {Error}")]
        public static partial void ResponseAddressNotChecked(ILogger logger, Uri address, string error);
    }
}
