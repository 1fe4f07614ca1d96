namespace PgAutoFailover.Contracts;

/// <summary>Operator → monitor: drop an empty formation. Refused while nodes remain or for the default formation.</summary>
/// <param name="Formation">Formation to drop.</param>
public sealed record DropFormation(string Formation);
