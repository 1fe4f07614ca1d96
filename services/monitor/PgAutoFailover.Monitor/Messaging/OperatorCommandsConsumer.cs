using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Groups;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// The operator's commands (docs/architecture.md#messages), each answered with <see cref="OperatorCommandSucceeded"/> or
/// <see cref="OperatorCommandRefused"/> carrying the reason. Group-changing commands go through the
/// decision core like any other trigger. Malformed commands are refused before they get here (<see cref="MessageRulesFilter{T}"/>).
/// </summary>
public sealed class OperatorCommandsConsumer(GroupCoordinator groups, NodeDirectory nodes, FormationDirectory formations) :
    IConsumer<CreateFormation>, IConsumer<DropFormation>, IConsumer<DropNode>,
    IConsumer<PerformFailover>, IConsumer<PerformSwitchover>, IConsumer<PerformPromotion>,
    IConsumer<EnableMaintenance>, IConsumer<DisableMaintenance>,
    IConsumer<SetCandidatePriority>, IConsumer<SetReplicationQuorum>, IConsumer<SetNumberSyncStandbys>, IConsumer<SetAutomaticFailover>,
    IConsumer<UpdateNodeMetadata>
{
    public async Task Consume(ConsumeContext<CreateFormation> context)
    {
        var m = context.Message;
        var database = string.IsNullOrWhiteSpace(m.DatabaseName) ? "postgres" : m.DatabaseName;
        if (!await formations.CreateAsync(m.Formation, database, m.NumberSyncStandbys, context.CancellationToken))
        {
            await RefuseAsync(context, m.Formation, $"formation \"{m.Formation}\" already exists");
            return;
        }
        await context.RespondAsync(new OperatorCommandSucceeded(m.Formation, $"created formation \"{m.Formation}\" with database \"{database}\""));
    }

    public async Task Consume(ConsumeContext<DropFormation> context)
    {
        var formation = context.Message.Formation;
        if (await formations.FindAsync(formation, context.CancellationToken) is null)
        {
            await RefuseAsync(context, formation, $"formation \"{formation}\" does not exist");
            return;
        }
        var count = await nodes.CountAsync(formation, context.CancellationToken);
        if (count > 0)
        {
            await RefuseAsync(context, formation, $"formation \"{formation}\" still has {count} node(s): drop them first");
            return;
        }
        await formations.DropAsync(formation, context.CancellationToken);
        await context.RespondAsync(new OperatorCommandSucceeded(formation, $"dropped formation \"{formation}\""));
    }

    public Task Consume(ConsumeContext<DropNode> context) =>
        OnNodeAsync(context, context.Message.Formation, context.Message.NodeId, context.Message.NodeName,
            id => new DropNodeCommand(id, context.Message.Force));

    public Task Consume(ConsumeContext<PerformFailover> context) =>
        OnGroupAsync(context, context.Message.Formation, context.Message.GroupId, new FailoverCommand(AllowDataLoss: context.Message.AllowDataLoss));

    public Task Consume(ConsumeContext<PerformSwitchover> context) =>
        OnGroupAsync(context, context.Message.Formation, context.Message.GroupId, new FailoverCommand(Switchover: true));

    public Task Consume(ConsumeContext<PerformPromotion> context) =>
        OnNodeAsync(context, context.Message.Formation, context.Message.NodeId, context.Message.NodeName, id => new PromotionCommand(id));

    public Task Consume(ConsumeContext<EnableMaintenance> context) =>
        OnNodeAsync(context, context.Message.Formation, context.Message.NodeId, null,
            id => new EnableMaintenanceCommand(id, context.Message.AllowFailover));

    public Task Consume(ConsumeContext<DisableMaintenance> context) =>
        OnNodeAsync(context, context.Message.Formation, context.Message.NodeId, null, id => new DisableMaintenanceCommand(id));

    public Task Consume(ConsumeContext<SetCandidatePriority> context) =>
        OnNodeAsync(context, context.Message.Formation, context.Message.NodeId, null,
            id => new SetCandidatePriorityCommand(id, context.Message.CandidatePriority));

    public Task Consume(ConsumeContext<SetReplicationQuorum> context) =>
        OnNodeAsync(context, context.Message.Formation, context.Message.NodeId, null,
            id => new SetReplicationQuorumCommand(id, context.Message.ReplicationQuorum));

    public Task Consume(ConsumeContext<SetAutomaticFailover> context) =>
        OnGroupAsync(context, context.Message.Formation, 0, new SetAutomaticFailoverCommand(context.Message.Enabled));

    public Task Consume(ConsumeContext<SetNumberSyncStandbys> context) =>
        OnGroupAsync(context, context.Message.Formation, 0, new SetNumberSyncStandbysCommand(context.Message.NumberSyncStandbys));

    /// <summary>
    /// update_node_metadata: the core checks the node's own group; the directory here also knows the other groups
    /// (a name is unique in the formation, host:port across the monitor), as for a registration.
    /// </summary>
    public async Task Consume(ConsumeContext<UpdateNodeMetadata> context)
    {
        var m = context.Message;
        var ct = context.CancellationToken;
        if (await nodes.FindAsync(m.NodeId, ct) is not { } record || record.Formation != m.Formation)
        {
            await RefuseAsync(context, m.Formation, $"node {m.NodeId} is not registered in formation \"{m.Formation}\"");
            return;
        }
        if (m.GroupId is { } group && group != record.GroupId)
        {
            await RefuseAsync(context, m.Formation, $"node {m.NodeId} is in group {record.GroupId}, not group {group}");
            return;
        }
        if (m.Name is { Length: > 0 } name && await nodes.FindAsync(m.Formation, name, ct) is { } named && named.Id != record.Id)
        {
            await RefuseAsync(context, m.Formation,
                $"cannot rename node {m.NodeId}: node {named.Id} is already named \"{name}\" in formation {m.Formation}");
            return;
        }
        var (host, port) = (m.Host ?? record.Host, m.Port ?? record.Port);
        if ((m.Host is not null || m.Port is not null) && await nodes.FindAsync(host, port, ct) is { } there && there.Id != record.Id)
        {
            await RefuseAsync(context, m.Formation,
                $"cannot move node {m.NodeId} to {host}:{port}: node {there.Id} \"{there.Name}\" of formation \"{there.Formation}\" is registered there");
            return;
        }
        try
        {
            await DecideAsync(context, m.Formation, GroupStream.Key(m.Formation, record.GroupId),
                new UpdateNodeMetadataCommand(record.Id, m.Name, m.Host, m.Port));
        }
        catch (NodeDirectoryConflict conflict)
        {
            var taken = conflict.Name ? $"name \"{m.Name}\"" : $"address {host}:{port}";
            await RefuseAsync(context, m.Formation, $"cannot update node {m.NodeId}: another node took the {taken} at the same time");
        }
    }

    private async Task OnNodeAsync<T>(ConsumeContext<T> context, string formation, long? nodeId, string? nodeName, Func<long, OperatorTrigger> command)
        where T : class
    {
        var record = nodeId is { } id
            ? await nodes.FindAsync(id, context.CancellationToken)
            : nodeName is { Length: > 0 } name ? await nodes.FindAsync(formation, name, context.CancellationToken) : null;
        if (record is null || record.Formation != formation)
        {
            var which = nodeId is { } n ? $"node {n}" : nodeName is { Length: > 0 } ? $"node \"{nodeName}\"" : "a node (give its id or name)";
            await RefuseAsync(context, formation, $"{which} is not registered in formation \"{formation}\"");
            return;
        }
        await DecideAsync(context, formation, GroupStream.Key(formation, record.GroupId), command(record.Id));
    }

    private async Task OnGroupAsync<T>(ConsumeContext<T> context, string formation, int groupId, OperatorTrigger command) where T : class
    {
        if (await formations.FindAsync(formation, context.CancellationToken) is null)
        {
            await RefuseAsync(context, formation, $"formation \"{formation}\" does not exist");
            return;
        }
        await DecideAsync(context, formation, GroupStream.Key(formation, groupId), command);
    }

    private async Task DecideAsync<T>(ConsumeContext<T> context, string formation, string key, OperatorTrigger command) where T : class
    {
        var outcome = await groups.DecideAsync(key, _ => command, context.CancellationToken);
        if (outcome is null)
        {
            await RefuseAsync(context, formation, $"formation \"{formation}\" has no node yet");
            return;
        }
        if (outcome.Decision.Refusal is { } refusal)
        {
            await RefuseAsync(context, formation, refusal.Reason);
            return;
        }
        var said = outcome.Decision.Assignments.Select(a => a.Description).Concat(outcome.Decision.Notices).ToList();
        await context.RespondAsync(new OperatorCommandSucceeded(formation, said.Count > 0 ? string.Join("; ", said) : "done: nothing needed to change"));
    }

    private static Task RefuseAsync<T>(ConsumeContext<T> context, string formation, string reason) where T : class =>
        context.RespondAsync(new OperatorCommandRefused(formation, reason));
}
