using Marten;
using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// Records a probe in the group's stream when it changes the node's verdict. Idempotent: a
/// redelivered or repeated probe finds the verdict unchanged and writes nothing.
/// </summary>
public sealed class NodeProbedConsumer(IDocumentSession session, ILogger<NodeProbedConsumer> logger) : IConsumer<NodeProbed>
{
    public async Task Consume(ConsumeContext<NodeProbed> context)
    {
        var probe = context.Message;
        var key = GroupStream.Key(probe.Node.Formation, probe.Node.GroupId);
        var stream = await session.Events.FetchForWriting<GroupProbeHealth>(key, context.CancellationToken);
        var health = stream.Aggregate ?? new GroupProbeHealth { Id = key };
        if (!health.Changes(probe.Node.NodeId, probe.Succeeded)) return;

        stream.AppendOne(new ProbeHealthRecorded(probe.Node.NodeId, probe.Succeeded, probe.Error, probe.CheckerId, probe.ProbedAt));
        await session.SaveChangesAsync(context.CancellationToken);
        logger.LogInformation("Node {NodeId} of {Stream} is now {Verdict} by probe of {CheckerId}: {Error}",
            probe.Node.NodeId, key, probe.Succeeded ? "reachable" : "unreachable", probe.CheckerId, probe.Error);
    }
}

public sealed class NodeProbedConsumerDefinition : ConsumerDefinition<NodeProbedConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<NodeProbedConsumer> consumer, IRegistrationContext context)
    {
        // Two deliveries racing on one group meet Marten's optimistic check; the loser retries on fresh state.
        endpoint.UseMessageRetry(retry => retry.Intervals(50, 100, 250, 500, 1000));
    }
}
