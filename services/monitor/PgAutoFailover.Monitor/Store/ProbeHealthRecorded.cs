namespace PgAutoFailover.Monitor.Store;

/// <summary>Stored when the health-checkers' verdict on a node flips (first verdict included).</summary>
public sealed record ProbeHealthRecorded(long NodeId, bool Healthy, string? Error, string CheckerId, DateTimeOffset ProbedAt);
