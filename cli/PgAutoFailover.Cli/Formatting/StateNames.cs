using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>pg_auto_failover's snake_case names of the states (the names on the wire).</summary>
public static class StateNames
{
    public static string Of(NodeState state) => NodeStateNames.Of(state);

    /// <summary>Length of the longest name, prepare_maintenance: the state columns are this wide so a watched table does not move.</summary>
    public const int Width = 19;
}
