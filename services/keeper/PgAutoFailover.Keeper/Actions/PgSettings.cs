using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Actions;

/// <summary>The settings the actions change on a running PostgreSQL: postgresql.auto.conf edits, reloads and the waits until a new session sees them.</summary>
public sealed partial class PgSettings(PostgresServer server, PgSql sql, ILogger<PgSettings> logger)
{
    /// <summary>Edits postgresql.auto.conf and reloads when running (the keeper never mixes this with ALTER SYSTEM).</summary>
    public async Task SetConfAsync(Dictionary<string, string?> settings, CancellationToken ct)
    {
        server.Files.SetAutoConf(settings);
        if (server.IsPostmasterAlive()) await sql.ExecuteAsync("SELECT pg_reload_conf()", ct);
    }

    public async Task SetSyncStandbyNamesAsync(string value, CancellationToken ct)
    {
        await EnsureRunningAsync(ct);
        // No entry in postgresql.auto.conf is the same as '' when the server shows '' (a standby just promoted has none):
        // writing it anyway cost a reload and a wait on the promotion's critical path.
        if (await sql.ShowAsync("synchronous_standby_names", ct) == value && (server.Files.ReadAutoConf("synchronous_standby_names") ?? "") == value) return;
        Log.SettingSyncStandbyNames(logger, value);
        await SetConfAsync(new() { ["synchronous_standby_names"] = value }, ct);
        await sql.WaitForSettingAsync("synchronous_standby_names", value, ct);
    }

    public async Task SetWritableAsync(bool writable, CancellationToken ct)
    {
        var wanted = writable ? null : "on";
        // Already so (in the file and as a new session sees it): no reload, no wait. A promotion passes here twice.
        if (server.Files.ReadAutoConf("default_transaction_read_only") == wanted && server.IsPostmasterAlive()
            && await sql.ShowAsync("default_transaction_read_only", ct) == (writable ? "off" : "on")) return;
        await SetConfAsync(new() { ["default_transaction_read_only"] = wanted }, ct);
        if (server.IsPostmasterAlive()) await sql.WaitForSettingAsync("default_transaction_read_only", writable ? "off" : "on", ct);
    }

    /// <summary>Starts PostgreSQL unless it runs and answers.</summary>
    public async Task EnsureRunningAsync(CancellationToken ct)
    {
        if (!server.IsPostmasterAlive() || !await sql.AnswersAsync(ct)) await server.StartAsync(ct);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Setting synchronous_standby_names to '{Value}'")]
        public static partial void SettingSyncStandbyNames(ILogger logger, string value);
    }
}
