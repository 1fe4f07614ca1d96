namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: set a node's candidate priority (0..100; 0 = never promoted).</summary>
/// <param name="Formation">Formation.</param>
/// <param name="NodeId">Node.</param>
/// <param name="CandidatePriority">New priority.</param>
public sealed record SetCandidatePriority(string Formation, long NodeId, int CandidatePriority);
