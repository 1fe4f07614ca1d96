using System.Diagnostics;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Loop;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Actions;

/// <summary>
/// The actions on a primary's side (docs/states.md#keeper-transitions): initdb, promote, synchronous replication on
/// and off, writes on and off, the stop before a demotion. Each is idempotent: an interrupted transition runs again.
/// </summary>
/// <remarks>The one thing kept between attempts: the LSN a synchronous standby must flush past before the node reports
/// primary, taken at the first attempt of EnableSyncRep (a retry waits for the same point, not a later one).</remarks>
public sealed partial class PrimaryActions(KeeperOptions options, PostgresServer server, PgSql sql, PgSettings settings, HbaRules hba, Secrets secrets,
    StepProgress progress, ServerAdoption adoption, ILogger<PrimaryActions> logger)
{
    private ulong? _syncTarget;

    /// <summary>initdb (or adopt, or check the data directory is this node's), start, promote if in recovery, roles; returns the system identifier.</summary>
    public async Task<ulong?> InitPrimaryAsync(KeeperState state, CancellationToken ct)
    {
        if (server.Files.IsEmptyOrMissing)
        {
            await InitDbAsync(ct);
        }
        else if (!server.Files.IsDataDirectory)
        {
            throw new KeeperException($"{options.PgData} is not empty and is not a PostgreSQL data directory: refusing to initdb over it");
        }
        else
        {
            await CheckSystemIdentifierAsync(state, ct);
        }
        hba.WriteHba();
        if (server.RunsWithoutThisKeeper) await adoption.AdoptAsync(ct);
        else await server.StartAsync(ct);
        if (await sql.InRecoveryAsync(ct)) await PromoteAsync(readOnly: false, ct);
        await ResumeAsPrimaryAsync(ct);
        await sql.EnsureRolesAsync(secrets.ReplicationPassword, options.Trust ? null : secrets.HealthCheckPassword, ct);
        if (options.ApplicationUser is { Length: > 0 } user)
        {
            var password = secrets.ApplicationPassword ?? throw new KeeperException(
                "Keeper:ApplicationUser is set without a password: set Keeper:ApplicationPassword or Keeper:ApplicationPasswordFile");
            await sql.EnsureApplicationRoleAsync(user, password, options.DatabaseName, ct);
        }
        return await server.SystemIdentifierAsync(ct);
    }

    public async Task CheckSystemIdentifierAsync(KeeperState state, CancellationToken ct)
    {
        if (state.SystemIdentifier is not { } expected || !server.Files.IsDataDirectory) return;
        var actual = await server.SystemIdentifierAsync(ct);
        if (actual != expected)
        {
            throw new KeeperException($"{options.PgData} belongs to another PostgreSQL system (system identifier {actual}, this node has {expected}): refusing to touch it");
        }
    }

    /// <summary>initdb into a temporary directory, then rename: a crash never leaves a half-made PGDATA.</summary>
    private async Task InitDbAsync(CancellationToken ct)
    {
        var temp = options.PgData.TrimEnd('/') + ".initdb";
        PgFiles.DeleteDirectory(temp);
        var parent = Path.GetDirectoryName(Path.GetFullPath(temp))!;
        Directory.CreateDirectory(parent);
        Directory.CreateDirectory(temp);
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        server.Os.GiveToPostgres(temp);
        List<string> args = ["-D", temp, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "-k"];
        args.AddRange(options.Trust ? ["-A", "trust"] : ["--auth-local=peer", "--auth-host=scram-sha-256"]);
        // initdb's own sync fsyncs each of its ~1,000 files one by one (1.4 s of a 2.1 s initdb here); one syncfs of
        // the file system makes the same files durable in a fraction of that (PostgreSQL 16's --sync-method=syncfs).
        args.Add("--no-sync");
        Log.RunningInitdb(logger, options.PgData);
        using (progress.Begin("initdb"))
        {
            await server.Os.CheckedAsync("initdb", server.Binaries.Path("initdb"), args, TimeSpan.FromMinutes(5), ct);
            if (!options.NoSync) await server.Os.CheckedAsync("sync -f", "sync", ["-f", temp], TimeSpan.FromMinutes(5), ct);
        }
        if (Directory.Exists(options.PgData)) Directory.Delete(options.PgData); // empty, checked above
        Directory.Move(temp, options.PgData);
    }

    public async Task ResumeAsPrimaryAsync(CancellationToken ct)
    {
        await settings.EnsureRunningAsync(ct);
        if (await sql.InRecoveryAsync(ct)) await PromoteAsync(readOnly: false, ct);
        await settings.SetSyncStandbyNamesAsync("", ct);
        await settings.SetWritableAsync(true, ct);
        _syncTarget = null;
    }

    public async Task StartAndApplySettingsAsync(NodeGoal? goal, CancellationToken ct)
    {
        server.Files.SetAutoConf(new Dictionary<string, string?> { ["default_transaction_read_only"] = null });
        await settings.EnsureRunningAsync(ct);
        await settings.SetWritableAsync(true, ct);
        await settings.SetSyncStandbyNamesAsync(goal?.SynchronousStandbyNames ?? "", ct);
    }

    /// <summary>
    /// Apply synchronous_standby_names; when not empty, succeed only once a synchronous standby
    /// has flushed past the LSN of the first attempt (so reaching primary proves a standby has the data).
    /// </summary>
    public async Task EnableSyncRepAsync(NodeGoal? goal, CancellationToken ct)
    {
        var names = goal?.SynchronousStandbyNames ?? "";
        if (names.Length > 0 && _syncTarget is null)
        {
            // Commits wait for these standbys from the moment the names are set: first see one of them stream past
            // this primary's position now. After a partition heals, a standby's link can still read "streaming" on
            // both ends while TCP backs off, and turning synchronous replication on then blocked every commit until
            // the stream resumed (docs/failover-timing.md#a-network-partition).
            var now = await sql.CurrentFlushLsnAsync(ct);
            if (!await NamedStandbyStreamsPastAsync(names, now, ct))
                throw new NotYetException($"no standby of '{names}' streams past {StandbySetup.FormatLsn(now)} yet: synchronous replication stays off");
        }
        await settings.SetSyncStandbyNamesAsync(names, ct);
        await settings.SetWritableAsync(true, ct);
        if (names.Length == 0) return;
        var standbys = await sql.StandbysAsync(ct);
        if (!standbys.Any(s => s.SyncState is "sync" or "quorum"))
        {
            throw new NotYetException($"no standby is synchronous yet for '{names}'");
        }
        _syncTarget ??= await sql.CurrentFlushLsnAsync(ct);
        await sql.CheckpointAsync(ct);
        var target = _syncTarget.Value;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(1)) // short: the fence watch waits for the actor
        {
            standbys = await sql.StandbysAsync(ct);
            if (standbys.Any(s => s.SyncState is "sync" or "quorum" && s.FlushLsn >= target))
            {
                _syncTarget = null;
                return;
            }
            await Task.Delay(100, ct);
        }
        throw new NotYetException($"waiting for a synchronous standby to flush past {StandbySetup.FormatLsn(target)}");
    }

    /// <summary>Whether, within a second, a standby <paramref name="names"/> lists streams with its flush position at or past <paramref name="target"/>.</summary>
    private async Task<bool> NamedStandbyStreamsPastAsync(string names, ulong target, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var standbys = await sql.StandbysAsync(ct);
            if (standbys.Any(s => s.State == "streaming" && s.FlushLsn >= target && NamesList(names, s.ApplicationName))) return true;
            if (deadline.Elapsed >= TimeSpan.FromSeconds(1)) return false; // short: the fence watch waits for the actor
            await Task.Delay(50, ct);
        }
    }

    /// <summary>Whether synchronous_standby_names <paramref name="names"/> lists <paramref name="applicationName"/> (a whole name).</summary>
    public static bool NamesList(string names, string applicationName) =>
        names.Split([' ', ',', '(', ')', '"'], StringSplitOptions.RemoveEmptyEntries).Contains(applicationName, StringComparer.Ordinal);

    public async Task CheckpointAndStopAsync(CancellationToken ct)
    {
        if (server.IsPostmasterAlive() && await server.AcceptsQueriesAsync(ct))
        {
            server.Files.SetAutoConf(new Dictionary<string, string?> { ["primary_conninfo"] = null });
            for (var i = 0; i < 2; i++)
            {
                try { await sql.CheckpointAsync(ct); }
                catch (Npgsql.NpgsqlException e) { Log.CheckpointFailed(logger, e.Message); }
            }
        }
        await server.StopAsync(ct);
    }

    public async Task StopReplicationAsync(CancellationToken ct)
    {
        await settings.EnsureRunningAsync(ct);
        await settings.SetWritableAsync(false, ct);
        await PromoteAsync(readOnly: true, ct);
    }

    /// <summary>Promote, wait until out of recovery, clean standby settings.</summary>
    public async Task PromoteAsync(bool readOnly, CancellationToken ct)
    {
        await settings.EnsureRunningAsync(ct);
        if (await sql.InRecoveryAsync(ct))
        {
            var watch = Stopwatch.StartNew();
            // pg_promote() on the keeper's own session: pg_ctl promote (through runuser) cost ~0.1 s of a switchover's
            // write outage. pg_ctl stays the fallback when the function refuses.
            bool requested;
            try { requested = await sql.RequestPromotionAsync(ct); }
            catch (Npgsql.PostgresException e)
            {
                Log.PgPromoteRefused(logger, e.MessageText);
                requested = false;
            }
            if (!requested) await server.PromoteAsync(ct);
            var lastRequest = TimeSpan.Zero;
            while (await sql.PromotionProgressAsync(ct) is { InRecovery: true } progress)
            {
                if (watch.Elapsed > options.PostgresStartTimeout) throw new KeeperException("PostgreSQL is still in recovery after pg_ctl promote");
                if (progress.StartupSleeps && watch.Elapsed - lastRequest > TimeSpan.FromMilliseconds(50))
                {
                    Log.PromotionRequestedAgain(logger, watch.Elapsed.TotalSeconds);
                    await RequestPromotionAgainAsync(ct);
                    lastRequest = watch.Elapsed;
                }
                await Task.Delay(10, ct); // promotion takes tens of milliseconds; this wait is part of a switchover's write outage
            }
            Log.Promoted(logger, watch.Elapsed.TotalSeconds);
        }
        // The checkpoint after a promotion is a spread one (minutes with many dirty buffers), yet a primary reports
        // its last checkpoint's timeline and pg_rewind reads the source's timeline from it: an immediate CHECKPOINT
        // is needed, but waiting for it here put it in a switchover's write outage. It runs beside the transition;
        // a node that rewinds from this one waits for it (UpstreamSql.WaitCheckpointOnCurrentTimelineAsync).
        _ = CheckpointAfterPromotionAsync();
        var standbyKeys = PgFiles.StandbyKeys.Where(k => k != "recovery_target_timeline").ToDictionary(k => k, _ => (string?)null);
        await settings.SetConfAsync(standbyKeys, ct);
        server.Files.SetStandbySignal(false);
        await settings.SetSyncStandbyNamesAsync("", ct);
        await settings.SetWritableAsync(!readOnly, ct);
    }

    private async Task RequestPromotionAgainAsync(CancellationToken ct)
    {
        try
        {
            await sql.RequestPromotionAsync(ct);
        }
        catch (Npgsql.PostgresException)
        {
            // "recovery is not in progress": the first request won in between, which the loop sees next.
        }
    }

    private async Task CheckpointAfterPromotionAsync()
    {
        try
        {
            await sql.CheckpointAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            Log.CheckpointAfterPromotionFailed(logger, e.Message);
        }
    }

    public async Task ResumeWritesAsync(CancellationToken ct)
    {
        await settings.EnsureRunningAsync(ct);
        if (await sql.InRecoveryAsync(ct)) await PromoteAsync(readOnly: false, ct);
        await settings.SetSyncStandbyNamesAsync("", ct);
        hba.WriteHba(); // before the reload that makes the node writable: one reload for both
        await settings.SetWritableAsync(true, ct);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "initdb {PgData}")]
        public static partial void RunningInitdb(ILogger logger, string pgData);

        [LoggerMessage(Level = LogLevel.Warning, Message = "CHECKPOINT failed: {Error}")]
        public static partial void CheckpointFailed(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "pg_promote() refused ({Error}): using pg_ctl promote")]
        public static partial void PgPromoteRefused(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL sleeps before its next WAL retry {Elapsed:F2} s after the promotion request: asking again")]
        public static partial void PromotionRequestedAgain(ILogger logger, double elapsed);

        [LoggerMessage(Level = LogLevel.Information, Message = "Promoted in {Elapsed:F2} s")]
        public static partial void Promoted(ILogger logger, double elapsed);

        [LoggerMessage(Level = LogLevel.Warning, Message = "CHECKPOINT after promotion failed: {Error}")]
        public static partial void CheckpointAfterPromotionFailed(ILogger logger, string error);
    }
}
