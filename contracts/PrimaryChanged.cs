namespace PgAutoFailover.Contracts;

/// <summary>Published when the node that may accept writes in a group changes, or the group loses its writer.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="GroupId">Group.</param>
/// <param name="PreviousPrimary">Node that held the writable role before; null if none.</param>
/// <param name="NewPrimary">Node that holds it now; null while the group has no writer.</param>
/// <param name="GroupVersion">Version of the group's event stream after this change.</param>
/// <param name="OccurredAt">Monitor time of the change.</param>
public sealed record PrimaryChanged(
    string Formation, int GroupId, NodeAddress? PreviousPrimary, NodeAddress? NewPrimary, long GroupVersion, DateTimeOffset OccurredAt);
