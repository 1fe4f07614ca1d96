using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Loop;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Actions;

/// <summary>How a standby is configured: primary_conninfo, its slot, standby.signal, recovery targets.</summary>
public sealed class StandbySetup(PostgresServer server, Secrets secrets, HbaRules hba)
{
    public string Conninfo(NodeAddress upstream, long nodeId) =>
        $"host={upstream.Host} port={upstream.Port} user={PgSql.ReplicationUser} password={secrets.ReplicationPassword} " +
        $"application_name={PgSql.SlotName(nodeId)} dbname=postgres connect_timeout=5 {server.Tls.ConninfoParameters}";

    /// <summary>Standby configuration (services/keeper/README.md): primary_conninfo (or none), slot, timeline latest, standby.signal, HBA.</summary>
    public void ConfigureStandby(NodeAddress? upstream, long nodeId, bool useSlot, ulong? recoveryTargetLsn = null)
    {
        server.Files.SetAutoConf(new Dictionary<string, string?>
        {
            ["primary_conninfo"] = upstream is null ? null : Conninfo(upstream, nodeId),
            ["primary_slot_name"] = upstream is not null && useSlot ? PgSql.SlotName(nodeId) : null,
            ["recovery_target_timeline"] = "latest",
            ["recovery_target_lsn"] = recoveryTargetLsn is { } lsn ? FormatLsn(lsn) : null,
            ["recovery_target_inclusive"] = recoveryTargetLsn is null ? null : "true",
            ["recovery_target_action"] = recoveryTargetLsn is null ? null : "pause",
            ["default_transaction_read_only"] = null,
        });
        server.Files.SetStandbySignal(true);
        hba.WriteHba();
    }

    public static string FormatLsn(ulong lsn) => $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}";

    /// <summary>The primary the goal names, or "not yet".</summary>
    public static NodeAddress PrimaryOf(NodeGoal? goal) =>
        goal?.Primary ?? throw new NotYetException("the monitor has not named a primary to replicate from yet");
}
