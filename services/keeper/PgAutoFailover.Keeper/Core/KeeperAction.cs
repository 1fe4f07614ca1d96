namespace PgAutoFailover.Keeper.Core;

/// <summary>The local actions of docs/states.md#keeper-transitions, named as there. A transition runs a plan: a few of these in order.</summary>
public enum KeeperAction
{
    /// <summary>initdb when the data directory is empty (or adopt it), start, roles, settings, promote if in recovery.</summary>
    InitPrimary,
    /// <summary>synchronous_standby_names = '' (reload); writes enabled.</summary>
    DisableReplication,
    /// <summary>No-op: HBA entries and slots are maintained eagerly.</summary>
    PrepareReplication,
    /// <summary>synchronous_standby_names = ''.</summary>
    DisableSyncRep,
    /// <summary>Apply the monitor's synchronous_standby_names and wait until a synchronous standby has flushed past the LSN of the start.</summary>
    EnableSyncRep,
    /// <summary>Start PostgreSQL (writable) and apply the monitor's synchronous_standby_names.</summary>
    StartPostgresAndApplySettings,
    /// <summary>Start PostgreSQL as a primary again (DisableReplication).</summary>
    ResumeAsPrimary,
    /// <summary>Fast shutdown, wait until down.</summary>
    StopPostgres,
    /// <summary>Reset primary_conninfo, CHECKPOINT, fast shutdown.</summary>
    CheckpointAndStopPostgres,
    /// <summary>pg_basebackup from the primary into a temporary directory, swap it in, configure as standby, start.</summary>
    InitStandby,
    /// <summary>pg_basebackup from the most advanced standby (election), configure without upstream, start.</summary>
    InitFromStandby,
    /// <summary>pg_rewind against the primary (pg_basebackup when that fails), configure as standby, start.</summary>
    RewindOrInit,
    /// <summary>Point primary_conninfo at the current primary and restart.</summary>
    FollowNewPrimary,
    /// <summary>Timeline check against the primary and a streaming WAL receiver.</summary>
    PrepareForSecondary,
    /// <summary>No-op (upstream v2.2).</summary>
    PrepareStandbyForPromotion,
    /// <summary>default_transaction_read_only = on, then promote.</summary>
    StopReplication,
    /// <summary>pg_ctl promote, wait until out of recovery, CHECKPOINT, remove standby settings.</summary>
    PromoteStandby,
    /// <summary>default_transaction_read_only = off.</summary>
    ResumeWrites,
    /// <summary>The keeper stops managing PostgreSQL.</summary>
    StartMaintenanceOnStandby,
    /// <summary>Stop, then configure as a standby with no upstream so a manual start is never writable.</summary>
    StopPostgresAndSetupStandby,
    /// <summary>Standby without upstream (LSN frozen), restart.</summary>
    ReportLsn,
    /// <summary>Drop every local pgautofailover_standby_% slot.</summary>
    DropAllSlots,
    /// <summary>Replicate from the most advanced standby up to the target LSN, then pause.</summary>
    FastForward,
    /// <summary>Remove recovery-target settings; no promotion yet.</summary>
    CleanupAsPrimary,
    /// <summary>Stop PostgreSQL; the node leaves the group.</summary>
    DropNode,
}
