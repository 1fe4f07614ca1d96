using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>What one trigger did to a group: the state before and after, the decision, and the stream version after it.</summary>
public sealed record GroupOutcome(GroupState? Before, GroupState After, Decision Decision, long Version)
{
    public bool Accepted => Decision.Accepted;
}
