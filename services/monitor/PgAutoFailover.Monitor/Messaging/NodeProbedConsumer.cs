using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Groups;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// A health-checker's probe result: the core counts consecutive failures and flips the node's health
/// verdict. A redelivered probe counts once more at worst; the verdict needs several in a row.
/// </summary>
public sealed partial class NodeProbedConsumer(GroupCoordinator groups, ILogger<NodeProbedConsumer> logger) : IConsumer<NodeProbed>
{
    public async Task Consume(ConsumeContext<NodeProbed> context)
    {
        var probe = context.Message;
        var outcome = await groups.DecideAsync(GroupStream.Key(probe.Node.Formation, probe.Node.GroupId),
            _ => ProbeTrigger.From(probe), context.CancellationToken, verifyStreamVersion: false);
        if (outcome is { Accepted: false })
        {
            Log.ProbeIgnored(logger, probe.Node.NodeId, probe.CheckerId, outcome.Decision.Refusal!.Reason);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Probe of node {NodeId} from {CheckerId} ignored: {Reason}")]
        public static partial void ProbeIgnored(ILogger logger, long nodeId, string checkerId, string reason);
    }
}

public sealed class NodeProbedConsumerDefinition(MonitorServiceOptions options) : TriggerConsumerDefinition<NodeProbedConsumer>(options)
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<NodeProbedConsumer> consumer, IRegistrationContext context)
    {
        base.ConfigureConsumer(endpoint, consumer, context);
        // A store outage is retried a few times, then the probe goes to the error queue: newer probes follow anyway.
        endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 1000));
    }
}
