using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.UriService.Topology;

namespace PgAutoFailover.UriService.Messaging;

/// <summary>Every FormationTopologyChanged, on this instance's own queue (each uri-service instance sees all of them).</summary>
public sealed class FormationTopologyChangedConsumer(TopologyUpdater updater) : IConsumer<FormationTopologyChanged>
{
    public Task Consume(ConsumeContext<FormationTopologyChanged> context) => updater.ApplyAsync(context.Message, context.CancellationToken);
}

/// <summary>PrimaryChanged: the fast path that stops an old writer passing /primary before the next snapshot arrives.</summary>
public sealed partial class PrimaryChangedConsumer(TopologyView view, ILogger<PrimaryChangedConsumer> logger) : IConsumer<PrimaryChanged>
{
    public Task Consume(ConsumeContext<PrimaryChanged> context)
    {
        var change = context.Message;
        view.ApplyPrimaryChanged(change);
        Log.PrimaryChanged(logger, change.Formation, change.GroupId, change.PreviousPrimary?.NodeId, change.NewPrimary?.NodeId, change.GroupVersion);
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Primary of {Formation}/{GroupId} changed from node {PreviousNodeId} to node {NewNodeId} (group version {GroupVersion})")]
        public static partial void PrimaryChanged(ILogger logger, string formation, int groupId, long? previousNodeId, long? newNodeId, long groupVersion);
    }
}
