namespace PgAutoFailover.Contracts;

/// <summary>Monitor → operator: the command was carried out (or started, for failovers).</summary>
/// <param name="Formation">Formation concerned.</param>
/// <param name="Message">One line saying what was done.</param>
public sealed record OperatorCommandSucceeded(string Formation, string Message);
