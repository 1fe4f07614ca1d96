using System.Diagnostics;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Loop;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Actions;

/// <summary>
/// The actions that give a standby its data: pg_basebackup from the primary or the most advanced standby, pg_rewind
/// of an old primary (a base backup when that fails). Each returns the system identifier of the data directory it made
/// (null when it kept the one there was). PGDATA is replaced only once the copy is complete.
/// </summary>
public sealed partial class CloneActions(KeeperOptions options, PostgresServer server, PgSql sql, StandbySetup standby, Secrets secrets,
    StepProgress progress, ILogger<CloneActions> logger)
{
    public async Task<ulong?> InitStandbyAsync(KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        var primary = StandbySetup.PrimaryOf(goal);
        var systemIdentifier = await CloneAsync(primary, state.NodeId, useSlot: true, ct);
        standby.ConfigureStandby(primary, state.NodeId, useSlot: true);
        await server.StartAsync(ct);
        return systemIdentifier;
    }

    public async Task<ulong?> InitFromStandbyAsync(KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        var source = goal?.UpstreamNode ?? StandbySetup.PrimaryOf(goal);
        var systemIdentifier = await CloneAsync(source, state.NodeId, useSlot: false, ct);
        standby.ConfigureStandby(null, state.NodeId, useSlot: false);
        await server.StartAsync(ct);
        return systemIdentifier;
    }

    /// <summary>
    /// pg_basebackup into "&lt;pgdata&gt;.basebackup", then swap it in. The existing data
    /// directory is untouched until the copy has fully succeeded (an unreachable primary damages nothing).
    /// </summary>
    private async Task<ulong?> CloneAsync(NodeAddress source, long nodeId, bool useSlot, CancellationToken ct)
    {
        var login = secrets.Replication;
        try
        {
            if (useSlot) await UpstreamSql.EnsureSlotOnUpstreamAsync(source, login, PgSql.SlotName(nodeId), ct);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            throw new KeeperException($"cannot reach {source.Host}:{source.Port} as {PgSql.ReplicationUser} for a base backup: {e.Message}", e);
        }
        // A local standby still streaming would hold our slot on the source (spec: stop Postgres first).
        await server.StopAsync(ct);
        var clone = options.PgData.TrimEnd('/') + ".basebackup";
        PgFiles.DeleteDirectory(clone);
        Directory.CreateDirectory(clone);
        File.SetUnixFileMode(clone, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        server.Os.GiveToPostgres(clone);
        List<string> args = ["-h", source.Host, "-p", source.Port.ToString(), "-U", PgSql.ReplicationUser, "-D", clone,
            "-X", "stream", "-c", "fast", "--max-rate", options.MaximumBackupRate, "-P", "-w"];
        if (useSlot) args.AddRange(["-S", PgSql.SlotName(nodeId)]);
        if (options.NoSync) args.Add("--no-sync");
        Log.BaseBackupStarting(logger, source.Host, source.Port, clone);
        var watch = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        CommandResult result;
        using (progress.Begin($"pg_basebackup from node {source.NodeId} ({source.Host}:{source.Port})"))
        {
            result = await server.Os.RunAsync(server.Binaries.Path("pg_basebackup"), args, options.CloneTimeout, ct,
                new Dictionary<string, string>(login.LibpqEnvironment()) { ["PGCONNECT_TIMEOUT"] = "10" },
                line =>
                {
                    if (StepProgress.ParseCopyProgress(line) is { } copied) progress.Detail(copied);
                    if (watch.Elapsed - lastProgress < TimeSpan.FromSeconds(1)) return;
                    lastProgress = watch.Elapsed;
                    Log.BaseBackupProgress(logger, line.Trim());
                });
        }
        if (result.ExitCode != 0)
        {
            PgFiles.DeleteDirectory(clone);
            throw new KeeperException($"pg_basebackup from {source.Host}:{source.Port} failed (exit {result.ExitCode}); {options.PgData} left untouched: {OsCommand.Tail(result.Combined, 8)}");
        }
        Log.BaseBackupDone(logger, watch.Elapsed.TotalSeconds);
        await server.StopAsync(ct);
        var previous = options.PgData.TrimEnd('/') + ".previous";
        PgFiles.DeleteDirectory(previous);
        if (Directory.Exists(options.PgData)) Directory.Move(options.PgData, previous);
        Directory.Move(clone, options.PgData);
        PgFiles.DeleteDirectory(previous);
        File.Delete(Path.Combine(options.PgData, "postmaster.pid"));
        return await server.SystemIdentifierAsync(ct);
    }

    public async Task<ulong?> RewindOrInitAsync(KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        var primary = StandbySetup.PrimaryOf(goal);
        var login = secrets.Replication;
        try
        {
            await UpstreamSql.EnsureSlotOnUpstreamAsync(primary, login, PgSql.SlotName(state.NodeId), ct);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            throw new KeeperException($"cannot reach the primary {primary.Host}:{primary.Port}: {e.Message}", e);
        }
        await server.StopAsync(ct);
        var rewound = false;
        if (server.Files.IsDataDirectory && await RewindCheck.FollowsWithoutRewindAsync(options, server, secrets.Replication, primary, logger, ct))
        {
            rewound = true;
        }
        else if (server.Files.IsDataDirectory)
        {
            await UpstreamSql.WaitCheckpointOnCurrentTimelineAsync(primary, login, options.PostgresStartTimeout, ct);
            List<string> args = ["--target-pgdata", options.PgData,
                "--source-server", $"host={primary.Host} port={primary.Port} user={PgSql.ReplicationUser} dbname=postgres connect_timeout=10", "--progress",
                // pg_rewind's own sync fsyncs every file of PGDATA one by one; one syncfs below makes them as durable, faster.
                "--no-sync"];
            Log.RewindStarting(logger, primary.Host, primary.Port);
            var watch = Stopwatch.StartNew();
            CommandResult result;
            using (progress.Begin($"pg_rewind from node {primary.NodeId} ({primary.Host}:{primary.Port})"))
            {
                result = await server.Os.RunAsync(server.Binaries.Path("pg_rewind"), args, options.CloneTimeout, ct,
                    login.LibpqEnvironment(),
                    line =>
                    {
                        if (StepProgress.ParseCopyProgress(line) is { } copied) progress.Detail(copied);
                        Log.RewindOutput(logger, line.Trim());
                    });
            }
            rewound = result.ExitCode == 0;
            // pg_wal may be a link to another file system: sync -f opens each path, so both file systems are synced.
            if (rewound && !options.NoSync)
                await server.Os.CheckedAsync("sync -f", "sync", ["-f", options.PgData, Path.Combine(options.PgData, "pg_wal")], TimeSpan.FromMinutes(5), ct);
            if (rewound) Log.RewindDone(logger, watch.Elapsed.TotalSeconds);
            else Log.RewindFailedCloning(logger, result.ExitCode, OsCommand.Tail(result.Combined, 8));
        }
        var systemIdentifier = rewound ? null : await CloneAsync(primary, state.NodeId, useSlot: true, ct);
        File.Delete(Path.Combine(options.PgData, "backup_label.old"));
        standby.ConfigureStandby(primary, state.NodeId, useSlot: true);
        await server.StartAsync(ct);
        await sql.DropAllSlotsAsync(ct);
        return systemIdentifier;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "pg_basebackup from {Host}:{Port} into {Clone}")]
        public static partial void BaseBackupStarting(ILogger logger, string host, int port, string clone);

        [LoggerMessage(Level = LogLevel.Information, Message = "pg_basebackup progress: {Line}")]
        public static partial void BaseBackupProgress(ILogger logger, string line);

        [LoggerMessage(Level = LogLevel.Information, Message = "pg_basebackup done in {Elapsed:F1} s")]
        public static partial void BaseBackupDone(ILogger logger, double elapsed);

        [LoggerMessage(Level = LogLevel.Information, Message = "pg_rewind from {Host}:{Port}")]
        public static partial void RewindStarting(ILogger logger, string host, int port);

        [LoggerMessage(Level = LogLevel.Information, Message = "pg_rewind: {Line}")]
        public static partial void RewindOutput(ILogger logger, string line);

        [LoggerMessage(Level = LogLevel.Information, Message = "pg_rewind done in {Elapsed:F1} s")]
        public static partial void RewindDone(ILogger logger, double elapsed);

        [LoggerMessage(Level = LogLevel.Warning, Message = "pg_rewind failed (exit {Code}), falling back to pg_basebackup: {Output}")]
        public static partial void RewindFailedCloning(ILogger logger, int code, string output);
    }
}
