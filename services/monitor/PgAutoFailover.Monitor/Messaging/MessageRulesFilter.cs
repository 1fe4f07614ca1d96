using MassTransit;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// Every message the monitor consumes is checked against <see cref="MessageRules"/> before a consumer sees it: one
/// that breaks a rule is logged in one line, answered with the refusal its sender waits for (if it waits for one),
/// and consumed, so it is neither retried nor faulted and never reaches a decision or the store. Before this, a
/// 1 MB host failed in the store's index and a null formation in Npgsql, and the sender got no answer. A request
/// whose response address cannot be answered is dropped the same way (<see cref="ResponseAddressGuard"/>).
/// </summary>
public sealed partial class MessageRulesFilter<T>(ResponseAddressGuard responses, ILogger<MessageRulesFilter<T>> logger) : IFilter<ConsumeContext<T>>
    where T : class
{
    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        if (context.ResponseAddress is { } address && await responses.ProblemAsync(address, context.CancellationToken) is { } unanswerable)
        {
            // Not even a refusal can be sent there: consumed, with one line, so it is neither retried nor redelivered.
            Log.Dropped(logger, typeof(T).Name, context.MessageId, context.SourceAddress, unanswerable);
            return;
        }
        if (MessageRules.Problem(context.Message) is not { } problem)
        {
            await next.Send(context);
            return;
        }
        Log.Refused(logger, typeof(T).Name, context.MessageId, context.SourceAddress, problem);
        if (context.ResponseAddress is not null && Refusal(context.Message, problem) is { } refusal)
            await context.RespondAsync(refusal);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("messageRules");

    /// <summary>The answer the sender of <paramref name="message"/> waits for when it is refused; null when none is.</summary>
    private static object? Refusal(T message, string problem) => message switch
    {
        RegisterNode m => new RegistrationRejected(Clip(m.Formation), Clip(m.Host), m.Port, problem),
        ReportNodeState m => new NodeReportRejected(Clip(m.Formation), m.GroupId, m.NodeId, false, problem),
        NodeProbed or GetTopology => null,
        _ => new OperatorCommandRefused(Clip(FormationOf(message)), problem),
    };

    private static string? FormationOf(T message) =>
        message.GetType().GetProperty(nameof(PerformFailover.Formation))?.GetValue(message) as string;

    /// <summary>Echo of a field that may be what broke the rules (a megabyte of host): at most a name's length.</summary>
    private static string Clip(string? value) =>
        value is null ? "" : value.Length <= MessageRules.MaxHostLength ? value : value[..MessageRules.MaxHostLength];

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped {MessageType} {MessageId} from {Source}: {Problem}")]
        public static partial void Dropped(ILogger logger, string messageType, Guid? messageId, Uri? source, string problem);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {MessageType} {MessageId} from {Source}: {Problem}")]
        public static partial void Refused(ILogger logger, string messageType, Guid? messageId, Uri? source, string problem);
    }
}
