using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Store;
using PgAutoFailover.Monitor.Groups;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// node_active (docs/architecture.md#messages): a keeper's report runs the group state machine and is answered with the
/// node's goal. A redelivery of the report last taken changes nothing and is answered with the current goal;
/// any other stale report (older, or behind a forged later one) is refused with the epoch the keeper must pass.
/// </summary>
public sealed partial class ReportNodeStateConsumer(GroupCoordinator groups, ILogger<ReportNodeStateConsumer> logger)
    : IConsumer<ReportNodeState>
{
    public async Task Consume(ConsumeContext<ReportNodeState> context)
    {
        var report = context.Message;
        var outcome = await groups.DecideAsync(GroupStream.Key(report.Formation, report.GroupId),
            _ => ReportTrigger.From(report), context.CancellationToken);
        if (outcome is not null) KeeperErrors.LogChange(logger, outcome.Before, outcome.After, report.NodeId);

        if (outcome is null)
        {
            await context.RespondAsync(new NodeReportRejected(report.Formation, report.GroupId, report.NodeId, true,
                $"group {report.GroupId} of formation \"{report.Formation}\" does not exist on this monitor"));
            return;
        }
        if (outcome.Decision.Refusal is { Kind: RefusalKind.StaleReport } stale
            && outcome.Before.Find(report.NodeId) is { } node && !ReportOrder.IsLastAccepted(node, report.Epoch, report.Sequence))
        {
            // Not a redelivery of the report last taken: the keeper is waiting for this answer and would otherwise be
            // answered forever with a goal for reports the monitor drops. Tell it the epoch to move past.
            Log.ReportNodeRefused(logger, report.NodeId, stale.Reason);
            await context.RespondAsync(new NodeReportRejected(report.Formation, report.GroupId, report.NodeId, false,
                stale.Reason, node.LastReportEpoch));
            return;
        }
        if (outcome.Decision.Refusal is { } refusal && refusal.Kind is not (RefusalKind.StaleReport or RefusalKind.NoPrimary))
        {
            Log.ReportNodeRejected(logger, report.Sequence, report.NodeId, refusal.Reason);
            await context.RespondAsync(new NodeReportRejected(report.Formation, report.GroupId, report.NodeId,
                refusal.Kind is RefusalKind.UnknownNode or RefusalKind.DroppedNode, refusal.Reason));
            return;
        }

        var goal = MonitorCore.GoalFor(outcome.After, report.NodeId, outcome.Accepted ? outcome.Decision : null);
        if (goal is null)
        {
            await context.RespondAsync(new NodeReportRejected(report.Formation, report.GroupId, report.NodeId, true,
                $"node {report.NodeId} is not registered in {report.Formation}/{report.GroupId}"));
            return;
        }
        await context.RespondAsync(goal);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Report of node {NodeId} refused: {Reason}")]
        public static partial void ReportNodeRefused(ILogger logger, long nodeId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Report #{Sequence} of node {NodeId} rejected: {Reason}")]
        public static partial void ReportNodeRejected(ILogger logger, long sequence, long nodeId, string reason);
    }
}

public sealed class ReportNodeStateConsumerDefinition(MonitorServiceOptions options)
    : TriggerConsumerDefinition<ReportNodeStateConsumer>(options);
