namespace PgAutoFailover.Contracts;

/// <summary>Monitor → operator: the command was refused; nothing changed.</summary>
/// <param name="Formation">Formation concerned.</param>
/// <param name="Reason">One line saying why, e.g. "cannot fail over: no candidate node is healthy".</param>
public sealed record OperatorCommandRefused(string Formation, string Reason);
