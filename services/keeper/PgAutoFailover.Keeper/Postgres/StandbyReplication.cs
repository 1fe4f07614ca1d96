namespace PgAutoFailover.Keeper.Postgres;

/// <summary>One row of pg_stat_replication for a pgautofailover standby.</summary>
public sealed record StandbyReplication(string ApplicationName, string State, string SyncState, DateTimeOffset? ReplyTime, ulong FlushLsn);
