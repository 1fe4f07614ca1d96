namespace PgAutoFailover.Contracts;

/// <summary>Monitor → operator answer to <see cref="GetEvents"/>.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="Events">Events, oldest first.</param>
public sealed record FormationEvents(string Formation, IReadOnlyList<FormationEvent> Events);
