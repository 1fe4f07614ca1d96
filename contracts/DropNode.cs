namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: remove a node from its group.</summary>
/// <param name="Formation">Formation of the node.</param>
/// <param name="NodeId">Node to remove, or null to name it by <paramref name="NodeName"/>.</param>
/// <param name="NodeName">Node name, used when <paramref name="NodeId"/> is null.</param>
/// <param name="Force">Remove the node at once even if its keeper cannot confirm.</param>
public sealed record DropNode(string Formation, long? NodeId, string? NodeName, bool Force);
