using System.Collections.Concurrent;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>
/// Where the monitor sends a keeper its goals (<see cref="KeeperGoalQueue"/>): the quorum queue, its exchange and their
/// binding declared once per node on each connection, since a new connection may reach a broker that lost them. The
/// monitor's broker user may write there, a keeper's may not (docs/operations.md#broker-users).
/// </summary>
public sealed class GoalQueues
{
    private readonly BrokerSideConnection _broker;
    private readonly ConcurrentDictionary<long, bool> _declared = new();

    public GoalQueues(BrokerSideConnection broker)
    {
        _broker = broker;
        _broker.Reopened += _declared.Clear;
    }

    /// <summary>The send address of node <paramref name="nodeId"/>'s goals, its queue declared and bound first.</summary>
    public async Task<Uri> AddressAsync(long nodeId, CancellationToken cancellationToken)
    {
        if (!_declared.ContainsKey(nodeId))
        {
            await KeeperGoalQueue.DeclareAsync(await _broker.GetAsync(cancellationToken), nodeId, cancellationToken);
            _declared[nodeId] = true;
        }
        return KeeperGoalQueue.SendAddress(nodeId);
    }
}
