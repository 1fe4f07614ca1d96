namespace PgAutoFailover.Contracts;

/// <summary>Published when a failover's new primary has reached a writable state.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="GroupId">Group.</param>
/// <param name="FailoverId">Identifier of the matching <see cref="FailoverStarted"/>.</param>
/// <param name="OldPrimary">Primary that was replaced; null if none.</param>
/// <param name="NewPrimary">Node now accepting writes.</param>
/// <param name="Duration">Monitor time from start to completion.</param>
/// <param name="GroupVersion">Version of the group's event stream after completion.</param>
/// <param name="OccurredAt">Monitor time of completion.</param>
public sealed record FailoverCompleted(
    string Formation, int GroupId, Guid FailoverId, NodeAddress? OldPrimary, NodeAddress NewPrimary,
    TimeSpan Duration, long GroupVersion, DateTimeOffset OccurredAt);
