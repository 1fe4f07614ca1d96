namespace PgAutoFailover.Contracts;

/// <summary>Monitor → operator answer to <see cref="GetSettings"/>.</summary>
/// <param name="Formation">Formation.</param>
/// <param name="Settings">Rows in the order of docs/operations.md.</param>
public sealed record FormationSettings(string Formation, IReadOnlyList<NodeSetting> Settings);
