using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Actions;
using PgAutoFailover.Keeper.Monitor;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>SIGHUP: the settings that can change while the keeper runs (<see cref="ConfigReload"/>), applied.</summary>
public sealed partial class ConfigReloader(
    KeeperOptions options,
    KeeperSession session,
    NodeIdentity identity,
    MonitorClient monitor,
    HbaRules hba,
    PostgresServer server,
    PgSql sql,
    IConfiguration configuration,
    ILogger<ConfigReloader> logger)
{
    private readonly SemaphoreSlim _reload = new(1, 1);

    /// <summary>
    /// Re-reads the configuration (the settings file written by create, appsettings, environment; the command
    /// line still wins) and applies what <see cref="ConfigReload"/> allows at run time; the rest is logged as
    /// needing a restart. Candidate priority and replication quorum go to the monitor, which holds them; a
    /// refused change is not taken, so the next reload tries again.
    /// </summary>
    public async Task ReloadAsync(CancellationToken ct)
    {
        await _reload.WaitAsync(ct);
        try
        {
            (configuration as IConfigurationRoot)?.Reload();
            var configured = new KeeperOptions();
            configuration.GetSection(KeeperOptions.Section).Bind(configured);
            if (!string.IsNullOrWhiteSpace(configured.PgData)) configured.PgData = Path.GetFullPath(configured.PgData).TrimEnd('/');
            // Checked as at start: a reload with a setting that cannot work changes nothing.
            if (configured.Problems().FirstOrDefault() is { } problem)
            {
                Log.ReloadRefused(logger, problem);
                return;
            }
            var changes = ConfigReload.Diff(options, configured);
            var node = session.Snapshot();
            if (changes.Count == 0)
            {
                Log.ReloadedNothingChanged(logger);
                return;
            }
            foreach (var ignored in changes.Where(c => !c.Reloadable))
            {
                Log.ReloadNeedsRestart(logger, ignored.Name, ignored.Old, ignored.New);
            }
            if (configured.Port != options.Port)
            {
                Log.HowToMovePort(logger, node.NodeId, configured.Port);
            }
            var (priority, quorum) = (options.CandidatePriority, options.ReplicationQuorum);
            var host = options.Host;
            ConfigReload.Apply(options, configured, changes);
            foreach (var applied in changes.Where(c => c.Reloadable))
            {
                Log.ReloadApplied(logger, applied.Name, applied.Old, applied.New);
            }
            if (priority != options.CandidatePriority && !await TellMonitorAsync("candidate priority", options.CandidatePriority,
                    () => monitor.SetCandidatePriorityAsync(new SetCandidatePriority(node.Formation, node.NodeId, options.CandidatePriority), ct)))
            {
                options.CandidatePriority = priority;
            }
            if (quorum != options.ReplicationQuorum && !await TellMonitorAsync("replication quorum", options.ReplicationQuorum,
                    () => monitor.SetReplicationQuorumAsync(new SetReplicationQuorum(node.Formation, node.NodeId, options.ReplicationQuorum), ct)))
            {
                options.ReplicationQuorum = quorum;
            }
            if (identity.Change() is { } change)
            {
                if (await TellMonitorAsync("name and host", identity.Describe(change), () => monitor.UpdateNodeMetadataAsync(change, ct))) identity.Taken(change);
                else identity.KeepHeld();
            }
            if (options.Host != host || changes.Any(c => c.Name is nameof(KeeperOptions.GroupHosts) or nameof(KeeperOptions.HealthCheckHosts)))
            {
                await session.ActLock.WaitAsync(ct); // not in the middle of a clone that replaces PGDATA
                try
                {
                    if (server.Files.IsDataDirectory)
                    {
                        hba.WriteHba();
                        if (server.IsPostmasterAlive()) await sql.ExecuteAsync("SELECT pg_reload_conf()", ct);
                        Log.HbaRewrittenForNewHosts(logger);
                    }
                }
                finally
                {
                    session.ActLock.Release();
                }
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            Log.ReloadFailed(logger, e.Message);
        }
        finally
        {
            _reload.Release();
        }
    }

    private async Task<bool> TellMonitorAsync<T>(string what, T value, Func<Task<string>> request)
    {
        if (session.Snapshot().NodeId == 0)
        {
            Log.SettingNotSentUnregistered(logger, what, value);
            return false;
        }
        try
        {
            var answer = await request();
            Log.MonitorTookSetting(logger, what, value, answer);
            return true;
        }
        catch (Exception e) when (e is KeeperException or MassTransit.RequestTimeoutException or OperationCanceledException or MassTransit.RequestFaultException)
        {
            Log.MonitorRefusedSetting(logger, what, value, e.Message);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Configuration reload refused, nothing changed: {Problem}")]
        public static partial void ReloadRefused(ILogger logger, string problem);

        [LoggerMessage(Level = LogLevel.Information, Message = "Configuration reloaded: nothing changed")]
        public static partial void ReloadedNothingChanged(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Configuration reloaded: {Setting} changed from {Old} to {New}, which needs a restart of the keeper: ignored")]
        public static partial void ReloadNeedsRestart(ILogger logger, string setting, string old, string @new);

        [LoggerMessage(Level = LogLevel.Warning, Message = "To move node {NodeId} to port {NewPort}: on a primary switch over first, then stop PostgreSQL and restart the keeper, which tells the monitor and starts PostgreSQL on the new port")]
        public static partial void HowToMovePort(ILogger logger, long nodeId, int newPort);

        [LoggerMessage(Level = LogLevel.Information, Message = "Configuration reloaded: {Setting} changed from {Old} to {New}")]
        public static partial void ReloadApplied(ILogger logger, string setting, string old, string @new);

        [LoggerMessage(Level = LogLevel.Information, Message = "pg_hba.conf rewritten for the new hosts")]
        public static partial void HbaRewrittenForNewHosts(ILogger logger);

        [LoggerMessage(Level = LogLevel.Error, Message = "Configuration reload failed: {Error}")]
        public static partial void ReloadFailed(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Error, Message = "The new {Setting} {Value} cannot be sent before the node is registered: keeping the old one")]
        public static partial void SettingNotSentUnregistered(ILogger logger, string setting, object? value);

        [LoggerMessage(Level = LogLevel.Information, Message = "The monitor took the new {Setting} {Value}: {Answer}")]
        public static partial void MonitorTookSetting(ILogger logger, string setting, object? value, string answer);

        [LoggerMessage(Level = LogLevel.Error, Message = "The monitor did not take the new {Setting} {Value}, keeping the old one (reload again to retry): {Error}")]
        public static partial void MonitorRefusedSetting(ILogger logger, string setting, object? value, string error);
    }
}
