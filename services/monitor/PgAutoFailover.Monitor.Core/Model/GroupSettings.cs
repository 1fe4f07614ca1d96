namespace PgAutoFailover.Monitor.Core.Model;

/// <summary>
/// Formation settings the group's rules read (docs/states.md#node-states). A pgsql formation has exactly one group (id 0),
/// so formation-wide values such as number_sync_standbys live here.
/// </summary>
/// <param name="Formation">Formation name.</param>
/// <param name="GroupId">Group id (0 for pgsql).</param>
/// <param name="DatabaseName">Application database name (adopted from the first node if it differs, REG-3).</param>
/// <param name="NumberSyncStandbys">number_sync_standbys (docs/states.md#synchronous_standby_names).</param>
/// <param name="AllowSecondaries">opt_secondary: whether standbys may register (REG-7).</param>
/// <param name="GuardDataLoss">[main] guard_data_loss: elections wait for every quorum standby (EL-3, EL-5).</param>
/// <param name="AutomaticFailover">
/// False while an operator paused automatic failover (pgaf disable automatic-failover): no failover starts by itself,
/// one already running finishes, and operator commands (switchover, maintenance, promotion) still work.
/// </param>
public sealed record GroupSettings(
    string Formation,
    int GroupId = 0,
    string DatabaseName = "postgres",
    int NumberSyncStandbys = 0,
    bool AllowSecondaries = true,
    bool GuardDataLoss = true,
    bool AutomaticFailover = true);
