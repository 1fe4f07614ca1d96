namespace PgAutoFailover.Contracts;

/// <summary>
/// pg_auto_failover's name of each state ("wait_primary"), read once from the wire names declared on
/// <see cref="NodeState"/>, so logs, events and tables print exactly what travels on the bus.
/// </summary>
public static class NodeStateNames
{
    /// <summary>The snake_case name of <paramref name="state"/>.</summary>
    public static string Of(NodeState state) => WireNames<NodeState>.Of(state);
}
