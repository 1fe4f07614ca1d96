namespace PgAutoFailover.Contracts;

/// <summary>
/// The write lease a primary holds (safety rule 3, docs/architecture.md#safety-rules). The keeper measures it from the moment
/// it sent the report that earned it, on its monotonic clock, so its expiry is never later
/// than the monitor's.
/// </summary>
/// <param name="Duration">Length of the lease from the moment the report was sent.</param>
/// <param name="ReportSequence">Sequence number of the report this lease answers.</param>
public sealed record PrimaryLease(TimeSpan Duration, long ReportSequence);
