using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>A step that cannot succeed yet (e.g. a standby has not caught up); retried next cycle, logged quietly.</summary>
public sealed class NotYetException(string message) : Exception(message);

/// <summary>
/// Runs the local actions of docs/states.md#keeper-transitions against the real PostgreSQL. Each action is idempotent:
/// a transition interrupted at any point (crash, error) is simply run again.
/// </summary>
public sealed class TransitionRunner(
    KeeperOptions options, PostgresServer server, PgSql sql, Secrets secrets, StepProgress progress, ServerAdoption adoption,
    HostAddressBook addresses, ILogger<TransitionRunner> logger)
{
    private ulong? _syncTarget;
    /// <summary>Slots of removed nodes by name: the goal in hand when last seen stale, and how many newer goals saw it so.</summary>
    private readonly Dictionary<string, (NodeGoal Goal, int NewerGoals)> _staleSlots = [];

    /// <summary>Set by the runner when it learns the data directory's system identifier (initdb, base backup).</summary>
    public ulong? SystemIdentifier { get; private set; }

    public async Task RunAsync(Transition transition, KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        foreach (var action in transition.Plan)
        {
            await RunActionAsync(action, transition.To, state, goal, ct);
        }
    }

    private Task RunActionAsync(KeeperAction action, NodeState to, KeeperState state, NodeGoal? goal, CancellationToken ct) => action switch
    {
        KeeperAction.InitPrimary => InitPrimaryAsync(state, ct),
        KeeperAction.DisableReplication or KeeperAction.ResumeAsPrimary => ResumeAsPrimaryAsync(ct),
        KeeperAction.PrepareReplication or KeeperAction.PrepareStandbyForPromotion or KeeperAction.StartMaintenanceOnStandby => Task.CompletedTask,
        KeeperAction.DisableSyncRep => SetSyncStandbyNamesAsync("", ct),
        KeeperAction.EnableSyncRep => EnableSyncRepAsync(goal, ct),
        KeeperAction.StartPostgresAndApplySettings => StartAndApplySettingsAsync(goal, ct),
        KeeperAction.StopPostgres or KeeperAction.DropNode => server.StopAsync(ct),
        KeeperAction.CheckpointAndStopPostgres => CheckpointAndStopAsync(ct),
        KeeperAction.InitStandby => InitStandbyAsync(state, goal, ct),
        KeeperAction.InitFromStandby => InitFromStandbyAsync(state, goal, ct),
        KeeperAction.RewindOrInit => RewindOrInitAsync(state, goal, ct),
        KeeperAction.FollowNewPrimary => FollowNewPrimaryAsync(to, state, goal, ct),
        KeeperAction.PrepareForSecondary => TimelineCheckAsync(goal, ct),
        KeeperAction.StopReplication => StopReplicationAsync(ct),
        KeeperAction.PromoteStandby => PromoteAsync(readOnly: false, ct),
        KeeperAction.ResumeWrites => ResumeWritesAsync(ct),
        KeeperAction.StopPostgresAndSetupStandby => StopAndSetupStandbyAsync(state, ct),
        KeeperAction.ReportLsn => ReportLsnAsync(state, ct),
        KeeperAction.DropAllSlots => sql.DropAllSlotsAsync(ct),
        KeeperAction.FastForward => FastForwardAsync(state, goal, ct),
        KeeperAction.CleanupAsPrimary => SetConfAsync(new() { ["recovery_target_lsn"] = null, ["recovery_target_inclusive"] = null, ["recovery_target_action"] = null }, ct),
        _ => throw new KeeperException($"action {action} is not implemented"),
    };

    // ---- settings -------------------------------------------------------------------------

    /// <summary>Edits postgresql.auto.conf and reloads when running (the keeper never mixes this with ALTER SYSTEM).</summary>
    private async Task SetConfAsync(Dictionary<string, string?> settings, CancellationToken ct)
    {
        server.Files.SetAutoConf(settings);
        if (server.IsPostmasterAlive()) await sql.ExecuteAsync("SELECT pg_reload_conf()", ct);
    }

    public async Task SetSyncStandbyNamesAsync(string value, CancellationToken ct)
    {
        await EnsureRunningAsync(ct);
        if (await sql.ShowAsync("synchronous_standby_names", ct) == value && server.Files.ReadAutoConf("synchronous_standby_names") == value) return;
        logger.LogInformation("Setting synchronous_standby_names to '{Value}'", value);
        await SetConfAsync(new() { ["synchronous_standby_names"] = value }, ct);
        await sql.WaitForSettingAsync("synchronous_standby_names", value, ct);
    }

    private async Task SetWritableAsync(bool writable, CancellationToken ct)
    {
        var wanted = writable ? null : "on";
        // Already so (in the file and as a new session sees it): no reload, no wait. A promotion passes here twice.
        if (server.Files.ReadAutoConf("default_transaction_read_only") == wanted && server.IsPostmasterAlive()
            && await sql.ShowAsync("default_transaction_read_only", ct) == (writable ? "off" : "on")) return;
        await SetConfAsync(new() { ["default_transaction_read_only"] = wanted }, ct);
        if (server.IsPostmasterAlive()) await sql.WaitForSettingAsync("default_transaction_read_only", writable ? "off" : "on", ct);
    }

    // Hosts of the group's nodes as the monitor last listed them (NodeGoal.GroupHosts); admitted beside the configured ones.
    private IReadOnlyList<string> _groupHosts = [];
    // HostAddressBook.Version when pg_hba was last written: a newer one means a name's addresses changed since.
    private long _writtenAddresses;
    private readonly Lock _hbaWrite = new();

    /// <summary>
    /// services/keeper/README.md: every node admits the replication role from every other node of the group. The goal lists their
    /// hosts; when the list changes (a node joined, moved or left) pg_hba.conf is rewritten and PostgreSQL reloaded, so
    /// a new standby can connect before its primary reaches wait_primary. Null (an older monitor): configured hosts only.
    /// A failed reload is logged and tried again next cycle; it never holds up a transition.
    /// </summary>
    /// <remarks>
    /// Also when a host name's addresses changed (<see cref="HostAddressBook"/>, looked up by
    /// <see cref="HostAddressRefresher"/>): the block is written again with them.
    /// </remarks>
    public async Task FollowGroupHostsAsync(NodeGoal? goal, CancellationToken ct)
    {
        var hosts = goal?.GroupHosts ?? _groupHosts; // none listed (an older monitor): the configured hosts only
        var hostsChanged = !hosts.SequenceEqual(_groupHosts, StringComparer.Ordinal);
        if (!hostsChanged && addresses.Version == _writtenAddresses) return;
        var (before, writtenBefore) = (_groupHosts, _writtenAddresses);
        if (server.Files.IsDataDirectory)
        {
            _groupHosts = [.. hosts];
            WriteHba();
            try
            {
                if (server.IsPostmasterAlive()) await sql.ExecuteAsync("SELECT pg_reload_conf()", ct);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or KeeperException or TimeoutException)
            {
                (_groupHosts, _writtenAddresses) = (before, writtenBefore); // written, not yet loaded: again next cycle
                logger.LogWarning("pg_hba.conf rewritten for the group's hosts but PostgreSQL did not reload yet: {Error}", e.Message);
                return;
            }
        }
        _groupHosts = [.. hosts];
        if (hostsChanged)
        {
            logger.LogInformation("pg_hba.conf admits the group's hosts {Hosts} (before: {Before})", string.Join(", ", hosts), before.Count == 0 ? "none listed yet" : string.Join(", ", before));
        }
        else
        {
            logger.LogInformation("pg_hba.conf admits the addresses of {Names} now: {Addresses}", string.Join(", ", HbaHostNames()),
                string.Join("; ", HbaHostNames().Select(n => $"{n} {string.Join(" ", addresses.Addresses(n))}")));
        }
    }

    /// <summary>Every host of the keeper's pg_hba block (this node, the group, health checkers, clients): configured and listed by the monitor.</summary>
    private List<string> HbaHosts(out List<string> group, out IReadOnlyList<string> checkers, out IReadOnlyList<string> clients)
    {
        group = [options.Host, .. options.GroupHosts, .. _groupHosts];
        checkers = options.HealthCheckHosts.Count > 0 ? options.HealthCheckHosts : group;
        clients = options.ClientHosts.Count > 0 ? options.ClientHosts : group;
        return [.. group, .. checkers, .. clients];
    }

    /// <summary>The host names in the keeper's pg_hba block, for <see cref="HostAddressRefresher"/> to look up.</summary>
    public IReadOnlyList<string> HbaHostNames() => [.. HbaBlock.Names(HbaHosts(out _, out _, out _))];

    public void WriteHba()
    {
        var method = options.Trust ? "trust" : "scram-sha-256";
        HbaHosts(out var group, out var checkers, out var clients);
        var rules = new List<HbaBlock.Rule>
        {
            new("replication", PgSql.ReplicationUser, group, method),
            new("postgres", PgSql.ReplicationUser, group, method),
            new("all", PgSql.HealthCheckUser, checkers, method),
        };
        // The application role reaches its own database only, always with a password (even when the keeper's roles use trust).
        if (options.ApplicationUser is { Length: > 0 } user)
            rules.Add(new(PgSql.QuoteIdentifier(options.DatabaseName), PgSql.QuoteIdentifier(user), clients, "scram-sha-256"));
        lock (_hbaWrite)
        {
            var version = addresses.Version;
            // hostssl when TLS is on (docs/operations.md#tls): a client without TLS is refused, never sent a password in clear.
            // Below the keeper's lines, initdb's admit loopback clients: with TLS on, none of them without it either.
            server.Files.SetManagedBlock("pg_hba.conf", HbaBlock.Lines(server.Tls.HbaConnectionType,
                options.Trust ? "local   all   all   trust" : "local   all   postgres   peer map=pgautofailover",
                rules, server.Tls.Enabled ? "hostnossl all   all   all   reject" : null, addresses));
            _writtenAddresses = version;
        }
        var keeperUser = Environment.UserName;
        server.Files.SetManagedBlock("pg_ident.conf", [$"pgautofailover   {keeperUser}   postgres", $"pgautofailover   {options.OsUser}   postgres"]);
    }

    private string Conninfo(NodeAddress upstream, long nodeId) =>
        $"host={upstream.Host} port={upstream.Port} user={PgSql.ReplicationUser} password={secrets.ReplicationPassword} " +
        $"application_name={PgSql.SlotName(nodeId)} dbname=postgres connect_timeout=5 {server.Tls.ConninfoParameters}";

    /// <summary>Standby configuration (services/keeper/README.md): primary_conninfo (or none), slot, timeline latest, standby.signal, HBA.</summary>
    private void ConfigureStandby(NodeAddress? upstream, long nodeId, bool useSlot, ulong? recoveryTargetLsn = null)
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
        WriteHba();
    }

    public static string FormatLsn(ulong lsn) => $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}";

    private async Task EnsureRunningAsync(CancellationToken ct)
    {
        if (!server.IsPostmasterAlive() || !await server.AcceptsQueriesAsync(ct)) await server.StartAsync(ct);
    }

    // ---- primary side ---------------------------------------------------------------------

    private async Task InitPrimaryAsync(KeeperState state, CancellationToken ct)
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
        WriteHba();
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
        SystemIdentifier = await server.SystemIdentifierAsync(ct);
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
        DeleteDirectory(temp);
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
        logger.LogInformation("initdb {PgData}", options.PgData);
        using (progress.Begin("initdb"))
        {
            await server.Os.CheckedAsync("initdb", server.Binaries.Path("initdb"), args, TimeSpan.FromMinutes(5), ct);
            if (!options.NoSync) await server.Os.CheckedAsync("sync -f", "sync", ["-f", temp], TimeSpan.FromMinutes(5), ct);
        }
        if (Directory.Exists(options.PgData)) Directory.Delete(options.PgData); // empty, checked above
        Directory.Move(temp, options.PgData);
    }

    private async Task ResumeAsPrimaryAsync(CancellationToken ct)
    {
        await EnsureRunningAsync(ct);
        if (await sql.InRecoveryAsync(ct)) await PromoteAsync(readOnly: false, ct);
        await SetSyncStandbyNamesAsync("", ct);
        await SetWritableAsync(true, ct);
        _syncTarget = null;
    }

    private async Task StartAndApplySettingsAsync(NodeGoal? goal, CancellationToken ct)
    {
        server.Files.SetAutoConf(new Dictionary<string, string?> { ["default_transaction_read_only"] = null });
        await EnsureRunningAsync(ct);
        await SetWritableAsync(true, ct);
        await SetSyncStandbyNamesAsync(goal?.SynchronousStandbyNames ?? "", ct);
    }

    /// <summary>
    /// Apply synchronous_standby_names; when not empty, succeed only once a synchronous standby
    /// has flushed past the LSN of the first attempt (so reaching primary proves a standby has the data).
    /// </summary>
    private async Task EnableSyncRepAsync(NodeGoal? goal, CancellationToken ct)
    {
        var names = goal?.SynchronousStandbyNames ?? "";
        await SetSyncStandbyNamesAsync(names, ct);
        await SetWritableAsync(true, ct);
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
        throw new NotYetException($"waiting for a synchronous standby to flush past {FormatLsn(target)}");
    }

    private async Task CheckpointAndStopAsync(CancellationToken ct)
    {
        if (server.IsPostmasterAlive() && await server.AcceptsQueriesAsync(ct))
        {
            server.Files.SetAutoConf(new Dictionary<string, string?> { ["primary_conninfo"] = null });
            for (var i = 0; i < 2; i++)
            {
                try { await sql.CheckpointAsync(ct); }
                catch (Npgsql.NpgsqlException e) { logger.LogWarning("CHECKPOINT failed: {Error}", e.Message); }
            }
        }
        await server.StopAsync(ct);
    }

    // ---- standby side ---------------------------------------------------------------------

    private static NodeAddress PrimaryOf(NodeGoal? goal) =>
        goal?.Primary ?? throw new NotYetException("the monitor has not named a primary to replicate from yet");

    private async Task InitStandbyAsync(KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        var primary = PrimaryOf(goal);
        await CloneAsync(primary, state.NodeId, useSlot: true, ct);
        ConfigureStandby(primary, state.NodeId, useSlot: true);
        await server.StartAsync(ct);
    }

    private async Task InitFromStandbyAsync(KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        var source = goal?.UpstreamNode ?? PrimaryOf(goal);
        await CloneAsync(source, state.NodeId, useSlot: false, ct);
        ConfigureStandby(null, state.NodeId, useSlot: false);
        await server.StartAsync(ct);
    }

    /// <summary>
    /// pg_basebackup into "&lt;pgdata&gt;.basebackup", then swap it in. The existing data
    /// directory is untouched until the copy has fully succeeded (an unreachable primary damages nothing).
    /// </summary>
    private async Task CloneAsync(NodeAddress source, long nodeId, bool useSlot, CancellationToken ct)
    {
        var login = secrets.Replication;
        try
        {
            if (useSlot) await PgSql.EnsureSlotOnUpstreamAsync(source, login, PgSql.SlotName(nodeId), ct);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            throw new KeeperException($"cannot reach {source.Host}:{source.Port} as {PgSql.ReplicationUser} for a base backup: {e.Message}", e);
        }
        // A local standby still streaming would hold our slot on the source (spec: stop Postgres first).
        await server.StopAsync(ct);
        var clone = options.PgData.TrimEnd('/') + ".basebackup";
        DeleteDirectory(clone);
        Directory.CreateDirectory(clone);
        File.SetUnixFileMode(clone, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        server.Os.GiveToPostgres(clone);
        List<string> args = ["-h", source.Host, "-p", source.Port.ToString(), "-U", PgSql.ReplicationUser, "-D", clone,
            "-X", "stream", "-c", "fast", "--max-rate", options.MaximumBackupRate, "-P", "-w"];
        if (useSlot) args.AddRange(["-S", PgSql.SlotName(nodeId)]);
        if (options.NoSync) args.Add("--no-sync");
        logger.LogInformation("pg_basebackup from {Host}:{Port} into {Clone}", source.Host, source.Port, clone);
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
                    logger.LogInformation("pg_basebackup progress: {Line}", line.Trim());
                });
        }
        if (result.ExitCode != 0)
        {
            DeleteDirectory(clone);
            throw new KeeperException($"pg_basebackup from {source.Host}:{source.Port} failed (exit {result.ExitCode}); {options.PgData} left untouched: {OsCommand.Tail(result.Combined, 8)}");
        }
        logger.LogInformation("pg_basebackup done in {Elapsed:F1} s", watch.Elapsed.TotalSeconds);
        await server.StopAsync(ct);
        var previous = options.PgData.TrimEnd('/') + ".previous";
        DeleteDirectory(previous);
        if (Directory.Exists(options.PgData)) Directory.Move(options.PgData, previous);
        Directory.Move(clone, options.PgData);
        DeleteDirectory(previous);
        File.Delete(Path.Combine(options.PgData, "postmaster.pid"));
        SystemIdentifier = await server.SystemIdentifierAsync(ct);
    }

    private async Task RewindOrInitAsync(KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        var primary = PrimaryOf(goal);
        var login = secrets.Replication;
        try
        {
            await PgSql.EnsureSlotOnUpstreamAsync(primary, login, PgSql.SlotName(state.NodeId), ct);
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
            await PgSql.WaitCheckpointOnCurrentTimelineAsync(primary, login, options.PostgresStartTimeout, ct);
            List<string> args = ["--target-pgdata", options.PgData,
                "--source-server", $"host={primary.Host} port={primary.Port} user={PgSql.ReplicationUser} dbname=postgres connect_timeout=10", "--progress",
                // pg_rewind's own sync fsyncs every file of PGDATA one by one; one syncfs below makes them as durable, faster.
                "--no-sync"];
            logger.LogInformation("pg_rewind from {Host}:{Port}", primary.Host, primary.Port);
            var watch = Stopwatch.StartNew();
            CommandResult result;
            using (progress.Begin($"pg_rewind from node {primary.NodeId} ({primary.Host}:{primary.Port})"))
            {
                result = await server.Os.RunAsync(server.Binaries.Path("pg_rewind"), args, options.CloneTimeout, ct,
                    login.LibpqEnvironment(),
                    line =>
                    {
                        if (StepProgress.ParseCopyProgress(line) is { } copied) progress.Detail(copied);
                        logger.LogInformation("pg_rewind: {Line}", line.Trim());
                    });
            }
            rewound = result.ExitCode == 0;
            // pg_wal may be a link to another file system: sync -f opens each path, so both file systems are synced.
            if (rewound && !options.NoSync)
                await server.Os.CheckedAsync("sync -f", "sync", ["-f", options.PgData, Path.Combine(options.PgData, "pg_wal")], TimeSpan.FromMinutes(5), ct);
            if (rewound) logger.LogInformation("pg_rewind done in {Elapsed:F1} s", watch.Elapsed.TotalSeconds);
            else logger.LogWarning("pg_rewind failed (exit {Code}), falling back to pg_basebackup: {Output}", result.ExitCode, OsCommand.Tail(result.Combined, 8));
        }
        if (!rewound) await CloneAsync(primary, state.NodeId, useSlot: true, ct);
        File.Delete(Path.Combine(options.PgData, "backup_label.old"));
        ConfigureStandby(primary, state.NodeId, useSlot: true);
        await server.StartAsync(ct);
        await sql.DropAllSlotsAsync(ct);
    }

    private async Task FollowNewPrimaryAsync(NodeState to, KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        var primary = PrimaryOf(goal);
        await PgSql.EnsureSlotOnUpstreamAsync(primary, secrets.Replication, PgSql.SlotName(state.NodeId), ct);
        var conninfo = Conninfo(primary, state.NodeId);
        var unchanged = server.Files.ReadAutoConf("primary_conninfo") == conninfo && server.Files.HasStandbySignal
                        && server.Files.ReadAutoConf("recovery_target_lsn") is null;
        ConfigureStandby(primary, state.NodeId, useSlot: true);
        if (unchanged) await EnsureRunningAsync(ct);
        else await server.RestartAsync(ct);
        if (to == NodeState.Secondary) await TimelineCheckAsync(goal, ct);
    }

    /// <summary>Succeeds only when the WAL receiver streams from the primary on the primary's timeline.</summary>
    private async Task TimelineCheckAsync(NodeGoal? goal, CancellationToken ct)
    {
        var primary = PrimaryOf(goal);
        await EnsureRunningAsync(ct);
        var upstream = await PgSql.UpstreamTimelineAsync(primary, secrets.Replication, ct);
        var local = await sql.ObserveAsync(ct);
        if (local.WalReceiverStatus != "streaming" || local.ReceivedTimeline == 0)
        {
            throw new NotYetException($"the WAL receiver is not streaming yet ({local.WalReceiverStatus ?? "none"})");
        }
        if (local.ReceivedTimeline > upstream)
        {
            throw new KeeperException($"local timeline {local.ReceivedTimeline} is ahead of the primary's {upstream}");
        }
        if (local.ReceivedTimeline < upstream) throw new NotYetException($"still on timeline {local.ReceivedTimeline}, primary on {upstream}");
    }

    private async Task StopReplicationAsync(CancellationToken ct)
    {
        await EnsureRunningAsync(ct);
        await SetWritableAsync(false, ct);
        await PromoteAsync(readOnly: true, ct);
    }

    /// <summary>Promote, wait until out of recovery, clean standby settings.</summary>
    private async Task PromoteAsync(bool readOnly, CancellationToken ct)
    {
        await EnsureRunningAsync(ct);
        if (await sql.InRecoveryAsync(ct))
        {
            var watch = Stopwatch.StartNew();
            // pg_promote() on the keeper's own session: pg_ctl promote (through runuser) cost ~0.1 s of a switchover's
            // write outage. pg_ctl stays the fallback when the function refuses.
            bool requested;
            try { requested = await sql.RequestPromotionAsync(ct); }
            catch (Npgsql.PostgresException e)
            {
                logger.LogWarning("pg_promote() refused ({Error}): using pg_ctl promote", e.MessageText);
                requested = false;
            }
            if (!requested) await server.PromoteAsync(ct);
            while (await sql.InRecoveryAsync(ct))
            {
                if (watch.Elapsed > options.PostgresStartTimeout) throw new KeeperException("PostgreSQL is still in recovery after pg_ctl promote");
                await Task.Delay(10, ct); // promotion takes tens of milliseconds; this wait is part of a switchover's write outage
            }
            logger.LogInformation("Promoted in {Elapsed:F2} s", watch.Elapsed.TotalSeconds);
        }
        // The checkpoint after a promotion is a spread one (minutes with many dirty buffers), yet a primary reports
        // its last checkpoint's timeline and pg_rewind reads the source's timeline from it: an immediate CHECKPOINT
        // is needed, but waiting for it here put it in a switchover's write outage. It runs beside the transition;
        // a node that rewinds from this one waits for it (PgSql.WaitCheckpointOnCurrentTimelineAsync).
        _ = CheckpointAfterPromotionAsync();
        var standbyKeys = PgFiles.StandbyKeys.Where(k => k != "recovery_target_timeline").ToDictionary(k => k, _ => (string?)null);
        await SetConfAsync(standbyKeys, ct);
        server.Files.SetStandbySignal(false);
        await SetSyncStandbyNamesAsync("", ct);
        await SetWritableAsync(!readOnly, ct);
    }

    private async Task CheckpointAfterPromotionAsync()
    {
        try
        {
            await sql.CheckpointAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning("CHECKPOINT after promotion failed: {Error}", e.Message);
        }
    }

    private async Task ResumeWritesAsync(CancellationToken ct)
    {
        await EnsureRunningAsync(ct);
        if (await sql.InRecoveryAsync(ct)) await PromoteAsync(readOnly: false, ct);
        await SetSyncStandbyNamesAsync("", ct);
        WriteHba(); // before the reload that makes the node writable: one reload for both
        await SetWritableAsync(true, ct);
    }

    private async Task StopAndSetupStandbyAsync(KeeperState state, CancellationToken ct)
    {
        await server.StopAsync(ct);
        ConfigureStandby(null, state.NodeId, useSlot: false);
    }

    private async Task ReportLsnAsync(KeeperState state, CancellationToken ct)
    {
        ConfigureStandby(null, state.NodeId, useSlot: false);
        await server.RestartAsync(ct);
    }

    private async Task FastForwardAsync(KeeperState state, NodeGoal? goal, CancellationToken ct)
    {
        var upstream = goal?.UpstreamNode ?? throw new NotYetException("the monitor has not named the most advanced standby yet");
        var target = goal.TargetLsn;
        ConfigureStandby(upstream, state.NodeId, useSlot: false, recoveryTargetLsn: target == 0 ? null : target);
        await server.RestartAsync(ct);
        var watch = Stopwatch.StartNew();
        using var step = progress.Begin($"fast_forward from node {upstream.NodeId} ({upstream.Host}:{upstream.Port}) to {FormatLsn(target)}");
        while (target != 0 && await sql.ReplayLsnAsync(ct) is var replayed && replayed < target)
        {
            if (watch.Elapsed > options.CloneTimeout) throw new KeeperException($"fast_forward did not reach {FormatLsn(target)}");
            progress.Detail($"replayed up to {FormatLsn(replayed)}");
            await Task.Delay(200, ct);
        }
        await sql.CheckpointAsync(ct);
    }

    // ---- ensure current state (docs/states.md#keeper-transitions) ------------------------------------------------

    public async Task EnsureAsync(NodeState current, NodeGoal? goal, CancellationToken ct)
    {
        if (KeeperStates.IsWritable(current))
        {
            await EnsureRunningAsync(ct);
            if (await sql.InRecoveryAsync(ct)) throw new KeeperException($"state {KeeperStates.Name(current)} but PostgreSQL is in recovery");
            var names = current is NodeState.Primary or NodeState.ApplySettings or NodeState.JoinPrimary ? goal?.SynchronousStandbyNames ?? "" : "";
            await SetSyncStandbyNamesAsync(names, ct);
            if (await sql.ShowAsync("default_transaction_read_only", ct) != "off") await SetWritableAsync(true, ct);
            if (goal is { GroupNodeIds: { } groupNodeIds } && KeeperStates.IsWritable(goal.GoalState))
                await DropSlotsOfRemovedNodesAsync(goal, groupNodeIds, ct);
        }
        else if (current is NodeState.PreparePromotion or NodeState.StopReplication)
        {
            await EnsureRunningAsync(ct);
        }
        else if (KeeperStates.MustRunAsStandby(current))
        {
            if (!server.IsPostmasterAlive())
            {
                server.Files.SetStandbySignal(true); // never start a standby's data directory as a primary
                await server.StartAsync(ct);
            }
            else if (current is NodeState.Secondary or NodeState.CatchingUp && goal?.Primary is { } primary)
            {
                await FollowMovedPrimaryAsync(primary, goal.NodeId, ct);
            }
        }
        else if (KeeperStates.MustBeStopped(current))
        {
            if (server.IsPostmasterAlive())
            {
                logger.LogWarning("PostgreSQL runs in state {State}: stopping it", KeeperStates.Name(current));
                await server.StopAsync(ct);
            }
        }
    }

    /// <summary>
    /// A converged standby whose goal names the primary at another address than primary_conninfo (the primary was
    /// re-addressed with update_node_metadata: none of this node's goals changed) follows it there. The slot is
    /// ensured first, which also proves the primary answers at the new address: until the operator restarted it
    /// there, the standby goes on streaming from the old one. PostgreSQL 13+ restarts the WAL receiver when a
    /// reload changes primary_conninfo, so PostgreSQL is not restarted.
    /// </summary>
    private async Task FollowMovedPrimaryAsync(NodeAddress primary, long nodeId, CancellationToken ct)
    {
        var conninfo = Conninfo(primary, nodeId);
        if (server.Files.ReadAutoConf("primary_conninfo") is not { } current || current == conninfo) return;
        try
        {
            await PgSql.EnsureSlotOnUpstreamAsync(primary, secrets.Replication, PgSql.SlotName(nodeId), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new NotYetException($"the primary, node {primary.NodeId}, is not reachable at its new address {primary.Host}:{primary.Port} yet " +
                                      $"(still streaming from the old one): {e.Message}");
        }
        ConfigureStandby(primary, nodeId, useSlot: true);
        await sql.ExecuteAsync("SELECT pg_reload_conf()", ct);
        logger.LogInformation("The primary, node {PrimaryId}, moved to {Host}:{Port}: primary_conninfo now points there (reloaded)",
            primary.NodeId, primary.Host, primary.Port);
    }

    /// <summary>
    /// A primary drops the inactive slots of nodes no longer in the group (null list: unknown, keep all). A slot is
    /// dropped only once it was found stale under two goals received after the one it was first found stale under:
    /// the list it is then checked against was computed after the slot existed, so the slot of a node registered
    /// after the goal in hand (which creates its slot before the primary hears of it) is not dropped.
    /// </summary>
    private async Task DropSlotsOfRemovedNodesAsync(NodeGoal goal, IReadOnlyList<long> groupNodeIds, CancellationToken ct)
    {
        var stale = await sql.SlotsOfRemovedNodesAsync(groupNodeIds, ct);
        foreach (var gone in _staleSlots.Keys.Except(stale).ToList()) _staleSlots.Remove(gone);
        var confirmed = new List<string>();
        foreach (var slot in stale)
        {
            if (!_staleSlots.TryGetValue(slot, out var seen)) _staleSlots[slot] = (goal, 0);
            else if (ReferenceEquals(seen.Goal, goal)) continue; // the same goal again: not a newer look
            else if (seen.NewerGoals >= 1) confirmed.Add(slot);   // this is the second newer goal
            else _staleSlots[slot] = (goal, seen.NewerGoals + 1);
        }
        if (confirmed.Count == 0) return;
        foreach (var slot in await sql.DropSlotsOfRemovedNodesAsync(groupNodeIds, confirmed, ct))
        {
            _staleSlots.Remove(slot);
            logger.LogInformation("Dropped replication slot {Slot}: its node is no longer in the group (nodes {GroupNodeIds})",
                slot, string.Join(", ", groupNodeIds));
        }
    }

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }
}
