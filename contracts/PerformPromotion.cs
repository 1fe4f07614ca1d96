namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: make the named node the primary.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="NodeId">Node to promote, or null to name it by <paramref name="NodeName"/>.</param>
/// <param name="NodeName">Node name, used when <paramref name="NodeId"/> is null.</param>
public sealed record PerformPromotion(string Formation, long? NodeId, string? NodeName);
