using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// What one trigger did to a group: the state it was decided on and the state after, the decision, and the
/// stream versions before and after it. <see cref="Created"/>: this decision created the group.
/// </summary>
public sealed record GroupOutcome(GroupState Before, GroupState After, Decision Decision, long VersionBefore, long Version, bool Created)
{
    public bool Accepted => Decision.Accepted;
}
