using System.Text.Json.Serialization;

namespace PgAutoFailover.Contracts;

/// <summary>
/// Replication state of a node, as reported by its keeper or assigned by the monitor
/// (docs/states.md#node-states). The wire and display names are pg_auto_failover's, in snake_case.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<NodeState>))]
public enum NodeState
{
    /// <summary>Placeholder on the monitor only.</summary>
    [JsonStringEnumMemberName("unknown")] Unknown = 0,
    /// <summary>Registered; the monitor knows only the node's address.</summary>
    [JsonStringEnumMemberName("init")] Init,
    /// <summary>Only node of its group, read-write, no replication.</summary>
    [JsonStringEnumMemberName("single")] Single,
    /// <summary>Primary with no standby eligible for the sync quorum; sync replication off.</summary>
    [JsonStringEnumMemberName("wait_primary")] WaitPrimary,
    /// <summary>Primary with a verified synchronous quorum.</summary>
    [JsonStringEnumMemberName("primary")] Primary,
    /// <summary>Old primary asked to stop taking writes.</summary>
    [JsonStringEnumMemberName("draining")] Draining,
    /// <summary>Old primary that must be down.</summary>
    [JsonStringEnumMemberName("demote_timeout")] DemoteTimeout,
    /// <summary>Old primary confirmed (or presumed) down; must stay down.</summary>
    [JsonStringEnumMemberName("demoted")] Demoted,
    /// <summary>Streaming standby not yet eligible for promotion.</summary>
    [JsonStringEnumMemberName("catchingup")] CatchingUp,
    /// <summary>Streaming standby eligible for promotion and counted in the sync quorum.</summary>
    [JsonStringEnumMemberName("secondary")] Secondary,
    /// <summary>Failover candidate preparing its promotion.</summary>
    [JsonStringEnumMemberName("prepare_promotion")] PreparePromotion,
    /// <summary>Promoted candidate refusing writes until the old primary is fenced.</summary>
    [JsonStringEnumMemberName("stop_replication")] StopReplication,
    /// <summary>Registered standby waiting for the primary to accept it.</summary>
    [JsonStringEnumMemberName("wait_standby")] WaitStandby,
    /// <summary>Out of automation.</summary>
    [JsonStringEnumMemberName("maintenance")] Maintenance,
    /// <summary>Deprecated primary state kept for compatibility.</summary>
    [JsonStringEnumMemberName("join_primary")] JoinPrimary,
    /// <summary>Primary re-reading synchronous_standby_names.</summary>
    [JsonStringEnumMemberName("apply_settings")] ApplySettings,
    /// <summary>Primary checkpointing and stopping before maintenance.</summary>
    [JsonStringEnumMemberName("prepare_maintenance")] PrepareMaintenance,
    /// <summary>Standby waiting for the primary to drop sync replication before maintenance.</summary>
    [JsonStringEnumMemberName("wait_maintenance")] WaitMaintenance,
    /// <summary>Standby frozen to report its LSN for an election.</summary>
    [JsonStringEnumMemberName("report_lsn")] ReportLsn,
    /// <summary>Elected candidate fetching missing WAL from the most advanced standby.</summary>
    [JsonStringEnumMemberName("fast_forward")] FastForward,
    /// <summary>Non-elected standby waiting to follow the new primary.</summary>
    [JsonStringEnumMemberName("join_secondary")] JoinSecondary,
    /// <summary>Node being removed.</summary>
    [JsonStringEnumMemberName("dropped")] Dropped,
}
