using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Monitor;

/// <summary>The keeper's side of the monitor protocol over RabbitMQ (design.md §3).</summary>
public sealed class MonitorClient(
    IRequestClient<RegisterNode> register,
    IRequestClient<ReportNodeState> report,
    IBus bus,
    KeeperOptions options)
{
    public static string GoalQueue(long nodeId) => $"keeper-node-{nodeId}";

    public async Task<NodeRegistered> RegisterAsync(RegisterNode request, CancellationToken cancellationToken)
    {
        // The token bounds the whole call: with the broker down, sending the request itself would wait for the connection.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RegisterTimeout);
        var response = await register.GetResponse<NodeRegistered, RegistrationRejected>(request, timeout.Token, RequestTimeout.After(ms: (int)options.RegisterTimeout.TotalMilliseconds));
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
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.MonitorTimeout);
        var response = await report.GetResponse<NodeGoal, NodeReportRejected>(request, timeout.Token, RequestTimeout.After(ms: (int)options.MonitorTimeout.TotalMilliseconds));
        if (response.Is(out Response<NodeReportRejected>? rejected))
        {
            // The monitor answered but will not take the report: keep PostgreSQL as it is and say why.
            throw new KeeperException(rejected.Message.NodeUnknown
                ? $"the monitor does not know node {request.NodeId} in {request.Formation}/{request.GroupId} (dropped?): {rejected.Message.Reason}"
                : $"the monitor rejected report #{request.Sequence}: {rejected.Message.Reason}");
        }
        return response.Is(out Response<NodeGoal>? goal) ? goal.Message : throw new KeeperException("unexpected answer to a report");
    }

    /// <summary>The keeper's own queue, where the monitor sends AssignGoalState the moment a goal changes.</summary>
    public async Task<HostReceiveEndpointHandle> ConnectGoalQueueAsync(long nodeId, Func<AssignGoalState, Task> onGoal, CancellationToken cancellationToken)
    {
        var handle = bus.ConnectReceiveEndpoint(GoalQueue(nodeId), e =>
        {
            e.Handler<AssignGoalState>(context => onGoal(context.Message));
        });
        await handle.Ready.WaitAsync(cancellationToken);
        return handle;
    }
}
