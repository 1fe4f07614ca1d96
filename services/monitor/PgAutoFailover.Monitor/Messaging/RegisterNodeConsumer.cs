using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;
using PgAutoFailover.Monitor.Groups;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// register_node (docs/states.md#registration): picks the node id, checks host:port is unique across the monitor, lets the
/// core apply the registration rules, and stores the node with the group's events in one transaction. A request
/// that breaks <see cref="MessageRules"/> never gets here (<see cref="MessageRulesFilter{T}"/>).
/// Registering the same host:port again in the same group answers the existing registration, so a
/// redelivered or retried request is harmless.
/// </summary>
public sealed partial class RegisterNodeConsumer(
    GroupCoordinator groups, NodeDirectory nodes, FormationDirectory formations, TimeProvider time, ILogger<RegisterNodeConsumer> logger)
    : IConsumer<RegisterNode>
{
    public async Task Consume(ConsumeContext<RegisterNode> context)
    {
        var request = context.Message;
        var ct = context.CancellationToken;
        if (await formations.FindAsync(request.Formation, ct) is not { } formation)
        {
            await RejectAsync(context, $"formation \"{request.Formation}\" does not exist");
            return;
        }
        var groupId = request.GroupId ?? 0;
        if (formation.Kind == "pgsql" && groupId != 0)
        {
            await RejectAsync(context, $"formation \"{request.Formation}\" is of kind pgsql and has only group 0");
            return;
        }
        var key = GroupStream.Key(request.Formation, groupId);

        if (await nodes.FindAsync(request.Host, request.Port, ct) is { } existing)
        {
            await AnswerExistingAsync(context, existing, key);
            return;
        }

        var nodeId = await nodes.AllocateAsync(request.DesiredNodeId, ct);
        GroupOutcome? outcome;
        try
        {
            outcome = await groups.DecideAsync(key,
                _ => RegisterTrigger.From(request, nodeId) with { GroupId = groupId },
                ct,
                create: () => new GroupCreated(new GroupSettings(request.Formation, groupId, formation.DatabaseName, formation.NumberSyncStandbys),
                    time.GetUtcNow()));
        }
        catch (NodeDirectoryConflict conflict)
        {
            // Another registration (another group's, or another instance's) committed first. For the address, answer
            // as if it had been there already: the same node again is its registration, anything else a refusal.
            if (!conflict.Name && await nodes.FindAsync(request.Host, request.Port, ct) is { } winner)
            {
                await AnswerExistingAsync(context, winner, key);
                return;
            }
            var taken = conflict.Name ? $"node name \"{request.NodeName}\"" : $"{request.Host}:{request.Port}";
            await RejectAsync(context, $"{taken} was registered by another request at the same time; retry");
            return;
        }

        if (outcome is null || !outcome.Accepted)
        {
            await RejectAsync(context, outcome?.Decision.Refusal?.Reason ?? "registration refused");
            return;
        }
        var node = outcome.After[nodeId];
        Log.NodeRegistered(logger, node.Label, key, node.GoalState);
        await context.RespondAsync(new NodeRegistered(MonitorCore.Address(outcome.After, node), node.GoalState, node.CandidatePriority, node.ReplicationQuorum));
    }

    private async Task AnswerExistingAsync(ConsumeContext<RegisterNode> context, NodeRecord existing, string key)
    {
        var request = context.Message;
        var group = await groups.ReadAsync(GroupStream.Key(existing.Formation, existing.GroupId), context.CancellationToken);
        var sameNode = existing.Formation == request.Formation
            && GroupStream.Key(existing.Formation, existing.GroupId) == key
            && (request.NodeName is null || request.NodeName == existing.Name);
        if (sameNode && group?.State.Find(existing.Id) is { GoalState: not NodeState.Dropped } node)
        {
            await context.RespondAsync(new NodeRegistered(MonitorCore.Address(group.State, node), node.GoalState, node.CandidatePriority, node.ReplicationQuorum));
            return;
        }
        await RejectAsync(context,
            $"{request.Host}:{request.Port} is already registered as node {existing.Id} \"{existing.Name}\" in formation \"{existing.Formation}\"");
    }

    private Task RejectAsync(ConsumeContext<RegisterNode> context, string reason)
    {
        Log.RegistrationRejected(logger, context.Message.Host, context.Message.Port, context.Message.Formation, reason);
        return context.RespondAsync(new RegistrationRejected(context.Message.Formation, context.Message.Host, context.Message.Port, reason));
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Registered {Node} in {Group} with goal {Goal}")]
        public static partial void NodeRegistered(ILogger logger, string node, string group, NodeState goal);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Registration of {Host}:{Port} in {Formation} rejected: {Reason}")]
        public static partial void RegistrationRejected(ILogger logger, string host, int port, string formation, string reason);
    }
}
