namespace PgAutoFailover.Keeper.Postgres;

/// <summary>What the keeper sees of its PostgreSQL in one cycle (docs/architecture.md#messages).</summary>
public sealed record PgObservation(
    bool Running,
    bool InRecovery,
    ulong Lsn,
    int Timeline,
    string ReplicationState,
    string? WalReceiverStatus,
    int ReceivedTimeline,
    string SynchronousStandbyNames,
    IReadOnlyList<StandbyReplication> Standbys)
{
    public static readonly PgObservation Down = new(false, false, 0, 0, "", null, 0, "", []);
}
