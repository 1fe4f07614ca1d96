using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Postgres;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Keeper.Monitor;

/// <summary>The keeper's side of the monitor protocol over RabbitMQ (docs/architecture.md#messages).</summary>
public sealed class MonitorClient(
    IRequestClient<RegisterNode> register,
    IRequestClient<ReportNodeState> report,
    IRequestClient<SetCandidatePriority> setPriority,
    IRequestClient<SetReplicationQuorum> setQuorum,
    IRequestClient<UpdateNodeMetadata> updateMetadata,
    IBus bus,
    KeeperOptions options)
{
    public static string GoalQueue(long nodeId) => BrokerNames.KeeperGoalQueue(nodeId);

    public async Task<NodeRegistered> RegisterAsync(RegisterNode request, CancellationToken cancellationToken)
    {
        // Bounded as a whole: with the broker down, sending the request itself would wait for the connection.
        var response = await register.GetResponseWithin<RegisterNode, NodeRegistered, RegistrationRejected>(request, options.RegisterTimeout, cancellationToken);
        if (response.Is(out Response<RegistrationRejected>? rejected))
        {
            throw new KeeperException($"the monitor rejected the registration of {request.Host}:{request.Port} in formation {request.Formation}: {rejected.Message.Reason}");
        }
        return response.Is(out Response<NodeRegistered>? registered)
            ? registered.Message
            : throw new KeeperException("unexpected registration response");
    }

    public async Task<NodeGoal> ReportAsync(ReportNodeState request, CancellationToken cancellationToken)
    {
        var response = await report.GetResponseWithin<ReportNodeState, NodeGoal, NodeReportRejected>(request, options.MonitorTimeout, cancellationToken);
        if (response.Is(out Response<NodeReportRejected>? rejected))
        {
            // The monitor answered but will not take the report: keep PostgreSQL as it is and say why.
            if (rejected.Message.NodeUnknown)
            {
                throw new NodeUnknownException(
                    $"the monitor does not know node {request.NodeId} in {request.Formation}/{request.GroupId} (dropped?): {rejected.Message.Reason}");
            }
            if (rejected.Message.LastAcceptedEpoch is { } epoch) throw new StaleReportException(epoch, rejected.Message.Reason);
            throw new KeeperException($"the monitor rejected report #{request.Sequence}: {rejected.Message.Reason}");
        }
        return response.Is(out Response<NodeGoal>? goal) ? goal.Message : throw new KeeperException("unexpected answer to a report");
    }

    /// <summary>Operator request on the node's behalf (a setting changed in the keeper's configuration): the monitor's answer, or an exception saying why not.</summary>
    public Task<string> SetCandidatePriorityAsync(SetCandidatePriority request, CancellationToken cancellationToken) =>
        OperatorAsync(setPriority, request, cancellationToken);

    /// <inheritdoc cref="SetCandidatePriorityAsync"/>
    public Task<string> SetReplicationQuorumAsync(SetReplicationQuorum request, CancellationToken cancellationToken) =>
        OperatorAsync(setQuorum, request, cancellationToken);

    /// <inheritdoc cref="SetCandidatePriorityAsync"/>
    public Task<string> UpdateNodeMetadataAsync(UpdateNodeMetadata request, CancellationToken cancellationToken) =>
        OperatorAsync(updateMetadata, request, cancellationToken);

    private async Task<string> OperatorAsync<T>(IRequestClient<T> client, T request, CancellationToken cancellationToken) where T : class
    {
        var response = await client.GetResponseWithin<T, OperatorCommandSucceeded, OperatorCommandRefused>(request, options.RegisterTimeout, cancellationToken);
        if (response.Is(out Response<OperatorCommandRefused>? refused)) throw new KeeperException($"the monitor refused: {refused.Message.Reason}");
        return response.Is(out Response<OperatorCommandSucceeded>? done) ? done.Message.Message : throw new KeeperException("unexpected answer");
    }

    /// <summary>The keeper's own queue, where the monitor sends AssignGoalState the moment a goal changes.</summary>
    public async Task<HostReceiveEndpointHandle> ConnectGoalQueueAsync(long nodeId, Func<AssignGoalState, Task> onGoal, CancellationToken cancellationToken)
    {
        var handle = bus.ConnectReceiveEndpoint(GoalQueue(nodeId), e =>
        {
            // No binding of the keeper's own: neither the queue to the exchange of its name nor AssignGoalState's
            // exchange to it, so a keeper's broker user needs no write permission anywhere a goal travels and no
            // other keeper can send this one a goal (docs/operations.md#broker-users). The monitor's send of the
            // node's first goal, at registration, declares the queue and binds it; until then consuming waits.
            // A quorum queue, as the monitor declares it (docs/operations.md#a-broker-cluster): a goal outlives a broker node.
            if (e is IRabbitMqReceiveEndpointConfigurator rabbit)
            {
                rabbit.BindQueue = false;
                rabbit.SetQuorumQueue();
            }
            e.ConfigureConsumeTopology = false;
            e.Handler<AssignGoalState>(context => onGoal(context.Message));
        });
        await handle.Ready.WaitAsync(cancellationToken);
        return handle;
    }
}

/// <summary>The monitor answered a report with "no such node": the node was removed (dropped), or belongs to another monitor.</summary>
public sealed class NodeUnknownException(string message) : Exception(message);

/// <summary>The monitor refused a report as stale: it took a later one (<see cref="LastAcceptedEpoch"/>), perhaps forged.</summary>
public sealed class StaleReportException(long lastAcceptedEpoch, string message) : Exception(message)
{
    public long LastAcceptedEpoch { get; } = lastAcceptedEpoch;
}
