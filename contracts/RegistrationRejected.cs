namespace PgAutoFailover.Contracts;

/// <summary>Monitor → keeper: the registration was refused.</summary>
/// <param name="Formation">Formation the keeper asked to join.</param>
/// <param name="Host">Host of the refused node.</param>
/// <param name="Port">Port of the refused node.</param>
/// <param name="Reason">One-line reason, for the operator.</param>
public sealed record RegistrationRejected(string Formation, string Host, int Port, string Reason);
