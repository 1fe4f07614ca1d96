namespace PgAutoFailover.Contracts;

/// <summary>Any service → monitor at start-up: the current topology of every formation. Answered by <see cref="TopologySnapshot"/>.</summary>
/// <param name="RequestedBy">Name of the asking service instance, for logs.</param>
public sealed record GetTopology(string RequestedBy);
