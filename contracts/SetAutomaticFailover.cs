namespace PgAutoFailover.Contracts;

/// <summary>
/// Operator → monitor: pause (false) or resume (true) automatic failover for a formation. While paused the monitor
/// keeps observing and answering, starts no failover by itself (a failover already under way finishes), and still
/// carries out operator commands: switchover, failover, promotion, maintenance.
/// </summary>
/// <param name="Formation">Formation.</param>
/// <param name="Enabled">True resumes automatic failover, false pauses it.</param>
public sealed record SetAutomaticFailover(string Formation, bool Enabled);
