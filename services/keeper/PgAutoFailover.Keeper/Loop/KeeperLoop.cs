using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Monitor;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>Why the keeper stopped on its own, for the command line's exit code.</summary>
public sealed class KeeperExit
{
    /// <summary>Exit code of a keeper whose node was dropped (pg_auto_failover's convention): its supervisor must not restart it.</summary>
    public const int NodeDropped = ServiceExitCodes.NodeDropped;

    private volatile int _code;
    public int Code { get => _code; set => _code = value; }
    public string? Error { get; set; }
}

/// <summary>
/// The keeper loop (services/keeper/README.md), as three cooperating tasks over one persisted state:
/// the reporter observes PostgreSQL and sends ReportNodeState every period (and at once after any
/// local change), taking the goal and lease from the reply; the actor runs the transition towards
/// the assigned goal (or "ensure current state" when converged), persisting the new current state
/// only after it succeeded; the watch samples PostgreSQL every FenceCheckPeriod over one kept-open connection:
/// on a writer it checks the primary lease (safety rule 3, docs/architecture.md#safety-rules), on a standby it wakes the reporter the moment the
/// WAL receiver stops or starts streaming (the monitor's lease wait counts from that report). A writer reports
/// every third of its lease, so a healthy primary always holds one. Goals pushed with AssignGoalState wake the
/// actor at once.
/// Reports carry the last transition error and what a long step (clone, rewind) is doing: the reporter
/// keeps reporting while the actor is busy. A node that was dropped stops the keeper with exit code 121;
/// <see cref="ReloadAsync"/> (SIGHUP) applies the reloadable settings of <see cref="ConfigReload"/>.
/// </summary>
public sealed class KeeperLoop(
    KeeperOptions options,
    MonitorClient monitor,
    PostgresServer server,
    PgSql sql,
    TransitionRunner runner,
    StepProgress progress,
    IConfiguration configuration,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    KeeperExit exit,
    ILogger<KeeperLoop> logger) : BackgroundService
{
    private static readonly Meter Meter = new(KeeperService.Telemetry.ServiceName);
    private static readonly Counter<long> Transitions = Meter.CreateCounter<long>("pgaf.keeper.transitions");
    private static readonly Counter<long> Fences = Meter.CreateCounter<long>("pgaf.keeper.fences");

    private readonly StateStore _store = new(options.StateFile);
    private readonly object _gate = new();
    private readonly SemaphoreSlim _act = new(1, 1);
    private readonly SemaphoreSlim _actorWake = new(0, int.MaxValue);
    private readonly SemaphoreSlim _reporterWake = new(0, int.MaxValue);
    /// <summary>The lease expiry last written to the lease file (under the gate).</summary>
    private long? _leaseFileExpiry;
    /// <summary>The last report was refused as stale (reporter task only).</summary>
    private bool _lastReportStale;
    private readonly LeaseTracker _lease = new(clock);
    private readonly StandbyReplyTracker _replies = new(clock);
    private readonly RestartDamping _damping = new(clock);
    private readonly LocalWatch _watch = new(server);
    private bool? _receiverStreaming; // as last sampled by the watch, on a standby
    private bool _actorNeedsLease;    // the actor stopped short of taking writes for want of a lease
    private long? _watchRestsUntil;   // monotonic: PostgreSQL refused the watch's connection for now (57P03)
    private readonly SemaphoreSlim _reload = new(1, 1);
    private KeeperState _state = new();
    private bool _goalConfirmed;          // a goal came from the monitor in this process
    private long? _lastMonitorContact;    // monotonic
    private volatile bool _firstReportDone;
    private long _reachedCreateGoal;
    private long _dropped;

    /// <summary>The state as persisted (for tests and /health).</summary>
    public KeeperState State { get { lock (_gate) return _state; } }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await StartUpAsync(stoppingToken);
            await Task.WhenAll(ReporterAsync(stoppingToken), ActorAsync(stoppingToken), WatchAsync(stoppingToken));
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: whatever was in flight was cancelled.
        }
        catch (Exception e)
        {
            exit.Error = e.Message;
            logger.LogCritical("Keeper stopped: {Error}", e is KeeperException ? e.Message : e.ToString());
            lock (_gate)
            {
                // Only with the lock: the state file may belong to another keeper that runs.
                if (_lock is not null && _store.Exists) Save((_store.Load() ?? _state) with { LastError = e.Message });
            }
            exit.Code = 1;
            // Not while the host is still starting (that would fail its start): once it has started.
            lifetime.ApplicationStarted.Register(lifetime.StopApplication);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Only a keeper that started up owns the PostgreSQL it would stop (not another keeper's, not a refused data directory's).
        if (_started && options.StopPostgresOnExit && server.IsPostmasterAlive())
        {
            logger.LogInformation("Keeper stopping: stopping PostgreSQL");
            await server.StopAsync(cancellationToken);
        }
        _lock?.Dispose();
        _lock = null;
        await _watch.DisposeAsync();
    }

    private FileStream? _lock;
    private volatile bool _started;

    /// <summary>One keeper per data directory: an exclusive lock on a file in the state directory, held for the keeper's life.</summary>
    private void TakeLock()
    {
        Directory.CreateDirectory(options.ResolvedStateDirectory);
        var path = Path.Combine(options.ResolvedStateDirectory, "keeper.pid");
        try
        {
            _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            _lock.SetLength(0);
            _lock.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n"));
            _lock.Flush();
        }
        catch (IOException)
        {
            throw new KeeperException($"another keeper runs for {options.PgData} (lock {path} is held)");
        }
    }

    public override void Dispose()
    {
        _lock?.Dispose();
        base.Dispose();
    }

    private async Task StartUpAsync(CancellationToken ct)
    {
        TakeLock();
        var existing = _store.Load();
        if (existing is null)
        {
            if (!options.Create) throw new KeeperException($"no state file {options.StateFile}: run keeper create first");
            existing = await RegisterAsync(ct);
        }
        // A new run: reports of an earlier one still queued on the broker are older than every report of this one.
        _state = existing with { ReportEpoch = existing.ReportEpoch + 1 };
        Save(_state);
        InheritLease();
        await runner.CheckSystemIdentifierAsync(_state, ct);
        await AnnounceChangedIdentityAsync(ct);
        if (server.IsPostmasterAlive() && !KeeperStates.IsWritable(_state.CurrentState) && KeeperStates.MustBeStopped(_state.CurrentState))
        {
            logger.LogWarning("PostgreSQL runs although the node is {State}: stopping it", KeeperStates.Name(_state.CurrentState));
            await server.StopAsync(ct);
        }
        // A server this keeper finds running (a previous keeper's, or one it adopted) obeys the lease as one it starts;
        // one still waiting to be adopted (init) is not the keeper's yet: its keeper's death must not stop it.
        if (_state.CurrentState != NodeState.Init) server.EnsureLeaseGuard();
        logger.LogInformation("Keeper for node {NodeId} ({Name}) in formation {Formation} group {Group}: current state {Current}, assigned {Assigned}",
            _state.NodeId, _state.NodeName, _state.Formation, _state.GroupId, KeeperStates.Name(_state.CurrentState), KeeperStates.Name(_state.AssignedState));
        _started = true;
        _ = ConnectGoalQueueAsync(ct);
    }

    private async Task<KeeperState> RegisterAsync(CancellationToken ct)
    {
        var files = server.Files;
        if (!files.IsEmptyOrMissing && !files.IsDataDirectory)
        {
            throw new KeeperException($"{options.PgData} is not empty and is not a PostgreSQL data directory: refusing to use it");
        }
        if (server.IsPostmasterAlive() && AdoptionProblem() is { } cannotAdopt) throw new KeeperException(cannotAdopt);
        if (await server.CannotRunHereAsync(ct) is { } problem) throw new KeeperException(problem);
        var sysid = files.IsDataDirectory ? await server.SystemIdentifierAsync(ct) : null;
        server.EnsureStateDirectory();
        var request = new RegisterNode(options.Formation, options.GroupId, options.Name, options.Host, options.Port, options.DatabaseName,
            sysid, options.CandidatePriority, options.ReplicationQuorum, options.NodeId, NodeState.Init);
        logger.LogInformation("Registering {Host}:{Port} in formation {Formation}", options.Host, options.Port, options.Formation);
        NodeRegistered registered;
        while (true)
        {
            try
            {
                registered = await monitor.RegisterAsync(request, ct);
                break;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is MassTransit.RequestTimeoutException or OperationCanceledException)
            {
                logger.LogWarning("The monitor did not answer the registration; retrying");
            }
        }
        var state = new KeeperState
        {
            Formation = registered.Node.Formation, NodeId = registered.Node.NodeId, GroupId = registered.Node.GroupId,
            NodeName = registered.Node.NodeName, Host = registered.Node.Host, Port = registered.Node.Port,
            CurrentState = NodeState.Init, AssignedState = registered.GoalState,
            SystemIdentifier = sysid, PgDataExistedAtCreate = sysid is not null,
        };
        _store.Save(state);
        File.WriteAllText(options.SettingsFile, System.Text.Json.JsonSerializer.Serialize(new { Keeper = options },
            new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        logger.LogInformation("Registered as node {NodeId} \"{Name}\" in group {Group}; first goal {Goal}",
            state.NodeId, state.NodeName, state.GroupId, KeeperStates.Name(state.AssignedState));
        return state;
    }

    /// <summary>What keeps the keeper from taking over the PostgreSQL that runs on PGDATA (docs/operations.md#adopting-a-running-database), or null.</summary>
    private string? AdoptionProblem()
    {
        var running = Postgres.PostmasterPidFile.Read(options.PgData);
        if (running?.Port is { } port && port != options.Port)
            return $"PostgreSQL already runs on {options.PgData} with port {port}, not {options.Port}: give --port {port} to adopt it as it runs";
        if (running is { SocketDirectory: null })
            return $"PostgreSQL already runs on {options.PgData} with no Unix socket (unix_socket_directories is empty): the keeper manages it over one";
        if (!File.Exists(Path.Combine(options.PgData, "postgresql.conf")))
            return $"PostgreSQL already runs on {options.PgData} with its configuration files elsewhere (config_file outside PGDATA, as Debian's clusters have): the keeper keeps them in PGDATA; move them there and restart it, then adopt it";
        return null;
    }

    /// <summary>
    /// Name, host or port changed in the settings while the keeper was down: the monitor hears of it
    /// (update_node_metadata) before PostgreSQL starts, so the health-checker probes, the standbys connect and
    /// applications are sent where the node will listen. A new port while PostgreSQL still runs on the old one
    /// cannot be taken; neither can what the monitor refuses: the keeper goes on with the values the monitor holds.
    /// </summary>
    private async Task AnnounceChangedIdentityAsync(CancellationToken ct)
    {
        var state = _state;
        if (state.Host is null || state.Port is not { } heldPort)
        {
            // A state file from before the address was kept: the settings are the best knowledge there is.
            lock (_gate) { _state = state with { Host = options.Host, Port = options.Port }; Save(_state); }
            return;
        }
        if (options.Port != heldPort && server.IsPostmasterAlive())
        {
            logger.LogWarning("Port changed from {OldPort} to {NewPort} but PostgreSQL still runs on port {OldPort}: staying there; " +
                              "stop PostgreSQL and restart the keeper to move the node", heldPort, options.Port, heldPort);
            options.Port = heldPort;
        }
        if (IdentityChange() is not { } request) return;
        while (true)
        {
            try
            {
                var answer = await monitor.UpdateNodeMetadataAsync(request, ct);
                logger.LogInformation("Settings changed since the last run: the monitor took {Identity}: {Answer}", Describe(request), answer);
                IdentityTaken(request);
                return;
            }
            catch (KeeperException e)
            {
                logger.LogError("Settings changed since the last run but the monitor did not take {Identity}, so the node stays " +
                                "\"{Name}\" at {Host}:{Port}: {Error}", Describe(request), state.NodeName, state.Host, heldPort, e.Message);
                KeepHeldIdentity();
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is MassTransit.RequestTimeoutException or OperationCanceledException or MassTransit.RequestFaultException)
            {
                // PostgreSQL must not start at an address the monitor does not know: wait for it.
                logger.LogWarning("The monitor did not answer the update of {Identity} ({Error}); retrying", Describe(request), e.Message);
                await Task.Delay(options.LoopPeriod, clock, ct);
            }
        }
    }

    /// <summary>
    /// services/keeper/README.md step 2 (update_node_metadata): the name, host and port in the settings that differ from the ones the
    /// monitor holds (kept in the state file), as the request that tells it; null when nothing differs or the state
    /// does not know them yet.
    /// </summary>
    private UpdateNodeMetadata? IdentityChange()
    {
        var held = State;
        if (held.Host is null || held.Port is null) return null;
        var request = new UpdateNodeMetadata(held.Formation, held.GroupId, held.NodeId,
            options.Name is { Length: > 0 } name && name != held.NodeName ? name : null,
            options.Host != held.Host ? options.Host : null,
            options.Port != held.Port ? options.Port : null);
        return request is { Name: null, Host: null, Port: null } ? null : request;
    }

    private string Describe(UpdateNodeMetadata request)
    {
        var held = State;
        return $"\"{request.Name ?? held.NodeName}\" ({request.Host ?? held.Host}:{request.Port ?? held.Port})";
    }

    /// <summary>The monitor took <paramref name="request"/>: the state file holds the identity the monitor now holds.</summary>
    private void IdentityTaken(UpdateNodeMetadata request)
    {
        lock (_gate)
        {
            _state = _state with { NodeName = request.Name ?? _state.NodeName, Host = request.Host ?? _state.Host, Port = request.Port ?? _state.Port };
            Save(_state);
        }
    }

    /// <summary>The monitor did not take a change: run with the identity it holds (a later reload or restart asks again).</summary>
    private void KeepHeldIdentity()
    {
        var held = State;
        (options.Name, options.Host, options.Port) = (held.NodeName, held.Host ?? options.Host, held.Port ?? options.Port);
    }

    private async Task ConnectGoalQueueAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await monitor.ConnectGoalQueueAsync(_state.NodeId, OnAssignGoalAsync, ct);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Could not listen on {Queue}: {Error}; retrying", MonitorClient.GoalQueue(_state.NodeId), e.Message);
                await Task.Delay(options.LoopPeriod, ct);
            }
        }
    }

    private Task OnAssignGoalAsync(AssignGoalState message)
    {
        lock (_gate)
        {
            if (message.Goal.NodeId != _state.NodeId) return Task.CompletedTask;
            if (message.GroupVersion < _state.LastGroupVersion)
            {
                logger.LogInformation("Dropping AssignGoalState version {Version}: older than {Seen}", message.GroupVersion, _state.LastGroupVersion);
                return Task.CompletedTask;
            }
            logger.LogInformation("Goal pushed by the monitor: {Goal} ({Description})", KeeperStates.Name(message.Goal.GoalState), message.Description);
            // Replies to reports sent before this push may carry the goal it replaces.
            _lease.GoalPushed();
            _state = _state with { LastGroupVersion = message.GroupVersion };
            ApplyGoal(message.Goal, fromReply: false, sentAt: null);
        }
        return Task.CompletedTask;
    }

    /// <summary>Takes a goal (under the gate): lease from its report's send time, goal state unless stale.</summary>
    private void ApplyGoal(NodeGoal goal, bool fromReply, long? sentAt)
    {
        _lease.Granted(goal.Lease);
        RecordLease();
        if (goal.Lease is not null && _actorNeedsLease)
        {
            // The promotion waits for this lease: go on now, not a loop period later.
            _actorNeedsLease = false;
            _actorWake.Release();
        }
        if (fromReply && sentAt is { } s && !_lease.ReplyGoalIsCurrent(s)) { Save(_state); return; }
        var firstWord = !_goalConfirmed;
        _goalConfirmed = true;
        var changed = goal.GoalState != _state.AssignedState;
        _state = _state with { AssignedState = goal.GoalState, LastGoal = goal, GroupId = goal.GroupId };
        Save(_state);
        // The actor does nothing until the monitor has spoken: the first goal starts it even when it is the one the
        // state file already holds (a new node's first goal came with its registration).
        if (firstWord && !changed) _actorWake.Release();
        if (changed)
        {
            logger.LogInformation("Assigned state {Goal} (current {Current})", KeeperStates.Name(goal.GoalState), KeeperStates.Name(_state.CurrentState));
            _actorWake.Release();
        }
    }

    private void Save(KeeperState state) => _store.Save(state);

    // ---- the lease PostgreSQL may outlive this keeper by (LeaseFile) -----------------------------------

    /// <summary>
    /// At start: this process now owns the PostgreSQL the previous keeper left running, and the lease that keeper
    /// still held (a primary whose keeper was restarted within its lease goes on taking writes).
    /// </summary>
    private void InheritLease()
    {
        var until = server.Lease.ReadUntil();
        server.Lease.Write(Environment.ProcessId, until);
        var remainingMs = until - LeaseFile.UptimeMs();
        if (remainingMs <= 0 || !KeeperStates.IsWritable(_state.CurrentState) || !server.IsPostmasterAlive()) return;
        lock (_gate) _lease.Inherit(clock.GetTimestamp() + remainingMs * clock.TimestampFrequency / 1000);
        _leaseFileExpiry = _lease.ExpiresAt;
        logger.LogInformation("PostgreSQL runs as {State} with {Remaining} ms left of the previous keeper's lease: taking it over",
            KeeperStates.Name(_state.CurrentState), remainingMs);
    }

    /// <summary>(Under the gate.) Records the lease held now where the watchdog reads it, when it moved.</summary>
    private void RecordLease()
    {
        if (_lease.ExpiresAt == _leaseFileExpiry) return;
        _leaseFileExpiry = _lease.ExpiresAt;
        var remainingMs = _lease.ExpiresAt is { } expiry ? (expiry - clock.GetTimestamp()) * 1000 / clock.TimestampFrequency : 0;
        try
        {
            server.Lease.Write(Environment.ProcessId, remainingMs > 0 ? LeaseFile.UptimeMs() + remainingMs : 0);
        }
        catch (IOException e)
        {
            // Then PostgreSQL outlives a dead keeper by less than the lease (the older value), never by more.
            logger.LogWarning("Could not record the lease in {Path}: {Error}", server.Lease.Path, e.Message);
        }
    }

    // ---- reporter -------------------------------------------------------------------------

    private async Task ReporterAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await ReportOnceAsync(ct);
            _firstReportDone = true;
            await _reporterWake.WaitAsync(ReportPeriod(), ct);
            while (_reporterWake.CurrentCount > 0) await _reporterWake.WaitAsync(ct);
        }
    }

    /// <summary>
    /// A writer renews its lease every third of it, so one or two lost renewals never let it lapse (the monitor also
    /// counts a writer silent for a whole lease as not reporting); every other node reports every LoopPeriod.
    /// </summary>
    private TimeSpan ReportPeriod()
    {
        lock (_gate)
        {
            var renewal = _lease.Duration / 3;
            return KeeperStates.IsWritable(_state.CurrentState) && renewal < options.LoopPeriod ? renewal : options.LoopPeriod;
        }
    }

    private async Task<PgObservation> ObserveAsync(CancellationToken ct)
    {
        if (!server.IsPostmasterAlive()) return PgObservation.Down;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            return await sql.ObserveAsync(timeout.Token);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            return PgObservation.Down;
        }
    }

    private async Task ReportOnceAsync(CancellationToken ct)
    {
        var observed = await ObserveAsync(ct);
        ReportNodeState report;
        long sentAt;
        lock (_gate)
        {
            var sequence = _state.ReportSequence + 1;
            _state = _state with { ReportSequence = sequence };
            Save(_state); // persisted before it is sent: strictly increasing across restarts
            sentAt = _lease.ReportSent(sequence);
            TimeSpan? replyAge = _replies.LastReplyAt is { } r ? clock.GetElapsedTime(r) : null;
            var running = ReportedRunning(observed.Running, sentAt);
            report = new ReportNodeState(_state.Formation, _state.GroupId, _state.NodeId, _state.CurrentState, running,
                observed.Timeline, observed.Lsn, observed.ReplicationState, replyAge, sequence, clock.GetUtcNow(),
                ReportText.OneLine(_state.LastError), ReportText.OneLine(progress.Current), _state.ReportEpoch);
        }
        try
        {
            var goal = await monitor.ReportAsync(report, ct);
            _lastReportStale = false;
            lock (_gate)
            {
                var wasLost = _lastMonitorContact is null || clock.GetElapsedTime(_lastMonitorContact.Value) > 3 * options.LoopPeriod + options.MonitorTimeout;
                _lastMonitorContact = clock.GetTimestamp();
                _state = _state with { LastMonitorContact = clock.GetUtcNow() };
                if (wasLost) logger.LogInformation("Goal state fetched from the monitor: {Goal}", KeeperStates.Name(goal.GoalState));
                ApplyGoal(goal, fromReply: true, sentAt: sentAt);
            }
            // services/keeper/README.md step 10: the monitor has seen this node report dropped.
            if (report.CurrentState == NodeState.Dropped && goal.GoalState == NodeState.Dropped) NodeDropped();
        }
        catch (NodeUnknownException e) when (!ct.IsCancellationRequested)
        {
            OnNodeUnknown(report, e);
        }
        catch (StaleReportException e) when (!ct.IsCancellationRequested)
        {
            // The monitor took a report this keeper never sent, or one of a restored state file (or this keeper's epoch
            // ran too far ahead while it could not report): take the epoch right after the monitor's, which it accepts
            // whatever the sequence. Report again at once, and only at the usual period if refused again (something
            // keeps forging reports).
            var epoch = e.LastAcceptedEpoch + 1;
            lock (_gate)
            {
                _state = _state with { ReportEpoch = epoch };
                Save(_state);
            }
            logger.LogWarning("The monitor refused report #{Sequence}: {Reason}; reporting again as epoch {Epoch}",
                report.Sequence, e.Message, epoch);
            if (!_lastReportStale) _reporterWake.Release();
            _lastReportStale = true;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning("Could not fetch the goal state from the monitor: {Error}", e.Message);
        }
    }

    /// <summary>docs/states.md#health (under the gate): the pg-is-running flag to report, damped for a primary whose PostgreSQL the keeper is restarting.</summary>
    private bool ReportedRunning(bool observed, long now)
    {
        var wasHiding = _damping.Hiding;
        var reported = _damping.Reported(_state.CurrentState, _state.AssignedState, observed, now,
            options.PostgresRestartFailureTimeout, options.PostgresRestartFailureMaxRetries);
        if (_damping.Hiding && !wasHiding)
        {
            logger.LogWarning("PostgreSQL is down in state primary: restarting it, and reporting it as running for up to {Retries} failed restarts or {Timeout}",
                options.PostgresRestartFailureMaxRetries, options.PostgresRestartFailureTimeout);
        }
        else if (wasHiding && !reported)
        {
            logger.LogError("PostgreSQL is still down after {Failed} failed restarts: reporting it as not running", _damping.FailedRestarts);
        }
        return reported;
    }

    /// <summary>
    /// The monitor has no such node. After this keeper reported dropped, that is the monitor confirming the drop
    /// (it removes a node once it reports dropped): exit 121. A node told to drop that the monitor already
    /// forgot (forced removal) still finishes its drop first. Anything else: keep PostgreSQL as it is.
    /// </summary>
    private void OnNodeUnknown(ReportNodeState report, NodeUnknownException e)
    {
        if (report.CurrentState == NodeState.Dropped)
        {
            NodeDropped();
            return;
        }
        lock (_gate)
        {
            if (_state.AssignedState == NodeState.Dropped && !_goalConfirmed)
            {
                logger.LogWarning("The monitor no longer knows this node, which was told to drop: finishing the drop");
                _goalConfirmed = true;
                _actorWake.Release();
                return;
            }
        }
        logger.LogWarning("Could not fetch the goal state from the monitor: {Error}", e.Message);
    }

    private void NodeDropped()
    {
        if (Interlocked.Exchange(ref _dropped, 1) == 1) return;
        logger.LogWarning("Node {NodeId} was dropped from the monitor: the keeper stops (exit code {Code})", _state.NodeId, KeeperExit.NodeDropped);
        exit.Error = $"node {_state.NodeId} was dropped from formation {_state.Formation}; its data directory is left as it is";
        exit.Code = KeeperExit.NodeDropped;
        lifetime.ApplicationStarted.Register(lifetime.StopApplication);
    }

    // ---- actor ----------------------------------------------------------------------------

    private bool MonitorReachedRecently =>
        _lastMonitorContact is { } t && clock.GetElapsedTime(t) < 3 * options.LoopPeriod + options.MonitorTimeout;

    private async Task ActorAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await _actorWake.WaitAsync(options.LoopPeriod, ct);
            while (_actorWake.CurrentCount > 0) await _actorWake.WaitAsync(ct);
            bool again;
            do
            {
                again = await ActOnceAsync(ct);
            } while (again && !ct.IsCancellationRequested);
        }
    }

    /// <summary>One step; true when a transition completed (act again at once).</summary>
    private async Task<bool> ActOnceAsync(CancellationToken ct)
    {
        KeeperState state;
        bool confirmed, reached;
        lock (_gate)
        {
            state = _state;
            confirmed = _goalConfirmed;
            reached = MonitorReachedRecently;
        }
        // safety rule 5 (docs/architecture.md#safety-rules): after a (re)start nothing happens until the monitor has spoken.
        if (!confirmed) return false;

        await _act.WaitAsync(ct);
        try
        {
            lock (_gate) state = _state;
            await runner.FollowGroupHostsAsync(state.LastGoal, ct);
            if (state.CurrentState == state.AssignedState)
            {
                if (options.ExitAfterCreate && Interlocked.Exchange(ref _reachedCreateGoal, 1) == 0)
                {
                    logger.LogInformation("Reached {State}: create is done", KeeperStates.Name(state.CurrentState));
                    lifetime.StopApplication();
                    return false;
                }
                if (reached)
                {
                    var restarting = KeeperStates.IsWritable(state.CurrentState) && !server.IsPostmasterAlive();
                    if (restarting) RequireLease();
                    try
                    {
                        await runner.EnsureAsync(state.CurrentState, state.LastGoal, ct);
                    }
                    catch (Exception e) when (restarting && e is not (NotYetException or OperationCanceledException))
                    {
                        lock (_gate) _damping.RestartFailed(clock.GetTimestamp());
                        throw;
                    }
                    // The check passed: an error of an earlier check is over.
                    lock (_gate)
                    {
                        if (_state.LastError is not null && _state.CurrentState == state.CurrentState) { _state = _state with { LastError = null }; Save(_state); }
                    }
                }
                return false;
            }
            var transition = TransitionTable.Find(state.CurrentState, state.AssignedState);
            if (transition is null)
            {
                var message = $"keeper does not know how to reach state \"{KeeperStates.Name(state.AssignedState)}\" from \"{KeeperStates.Name(state.CurrentState)}\"";
                if (state.LastError != message) logger.LogError("{Message}", message);
                lock (_gate) { _state = _state with { LastError = message }; Save(_state); }
                return false;
            }
            // safety rule 3 (docs/architecture.md#safety-rules): never become writable without a lease in hand (it comes with the reply to a report).
            if (KeeperStates.IsWritable(transition.To) && !KeeperStates.IsWritable(state.CurrentState)) RequireLease();
            logger.LogInformation("FSM transition from \"{From}\" to \"{To}\": {Comment} [{Id}: {Plan}]", KeeperStates.Name(transition.From ?? state.CurrentState),
                KeeperStates.Name(transition.To), transition.Comment, transition.Id, string.Join(" + ", transition.Plan));
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await runner.RunAsync(transition, state, state.LastGoal, ct);
            lock (_gate)
            {
                _state = _state with
                {
                    CurrentState = transition.To, LastError = null,
                    SystemIdentifier = runner.SystemIdentifier ?? _state.SystemIdentifier,
                };
                Save(_state);
            }
            Transitions.Add(1);
            logger.LogInformation("Transition complete in {Elapsed:F2} s: current state is now \"{State}\"", watch.Elapsed.TotalSeconds, KeeperStates.Name(transition.To));
            _reporterWake.Release();
            return true;
        }
        catch (NotYetException e)
        {
            logger.LogInformation("Not yet: {Reason}", e.Message);
            return false;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            var message = e is KeeperException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            logger.LogError("Transition or check failed, retrying next cycle: {Error}", e is KeeperException ? e.Message : e.ToString());
            lock (_gate) { _state = _state with { LastError = message }; Save(_state); }
            return false;
        }
        finally
        {
            _act.Release();
        }
    }

    private void RequireLease()
    {
        lock (_gate)
        {
            if (_lease.ExpiresAt is { } expiry && clock.GetTimestamp() < expiry) return;
            _actorNeedsLease = true;
        }
        _reporterWake.Release();
        throw new NotYetException("waiting for a primary lease from the monitor before taking writes");
    }

    // ---- reload (SIGHUP) -------------------------------------------------------------------

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
            var changes = ConfigReload.Diff(options, configured);
            if (changes.Count == 0)
            {
                logger.LogInformation("Configuration reloaded: nothing changed");
                return;
            }
            foreach (var ignored in changes.Where(c => !c.Reloadable))
            {
                logger.LogWarning("Configuration reloaded: {Setting} changed from {Old} to {New}, which needs a restart of the keeper: ignored",
                    ignored.Name, ignored.Old, ignored.New);
            }
            if (configured.Port != options.Port)
            {
                logger.LogWarning("To move node {NodeId} to port {NewPort}: on a primary switch over first, then stop PostgreSQL and restart the keeper, " +
                                  "which tells the monitor and starts PostgreSQL on the new port", State.NodeId, configured.Port);
            }
            var (priority, quorum) = (options.CandidatePriority, options.ReplicationQuorum);
            var host = options.Host;
            ConfigReload.Apply(options, configured, changes);
            foreach (var applied in changes.Where(c => c.Reloadable))
            {
                logger.LogInformation("Configuration reloaded: {Setting} changed from {Old} to {New}", applied.Name, applied.Old, applied.New);
            }
            if (priority != options.CandidatePriority && !await TellMonitorAsync("candidate priority", options.CandidatePriority,
                    () => monitor.SetCandidatePriorityAsync(new SetCandidatePriority(State.Formation, State.NodeId, options.CandidatePriority), ct)))
            {
                options.CandidatePriority = priority;
            }
            if (quorum != options.ReplicationQuorum && !await TellMonitorAsync("replication quorum", options.ReplicationQuorum,
                    () => monitor.SetReplicationQuorumAsync(new SetReplicationQuorum(State.Formation, State.NodeId, options.ReplicationQuorum), ct)))
            {
                options.ReplicationQuorum = quorum;
            }
            if (IdentityChange() is { } identity)
            {
                if (await TellMonitorAsync("name and host", Describe(identity), () => monitor.UpdateNodeMetadataAsync(identity, ct))) IdentityTaken(identity);
                else KeepHeldIdentity();
            }
            if (options.Host != host || changes.Any(c => c.Name is nameof(KeeperOptions.GroupHosts) or nameof(KeeperOptions.HealthCheckHosts)))
            {
                await _act.WaitAsync(ct); // not in the middle of a clone that replaces PGDATA
                try
                {
                    if (server.Files.IsDataDirectory)
                    {
                        runner.WriteHba();
                        if (server.IsPostmasterAlive()) await sql.ExecuteAsync("SELECT pg_reload_conf()", ct);
                        logger.LogInformation("pg_hba.conf rewritten for the new hosts");
                    }
                }
                finally
                {
                    _act.Release();
                }
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogError("Configuration reload failed: {Error}", e.Message);
        }
        finally
        {
            _reload.Release();
        }
    }

    private async Task<bool> TellMonitorAsync<T>(string what, T value, Func<Task<string>> request)
    {
        if (State.NodeId == 0)
        {
            logger.LogError("The new {Setting} {Value} cannot be sent before the node is registered: keeping the old one", what, value);
            return false;
        }
        try
        {
            var answer = await request();
            logger.LogInformation("The monitor took the new {Setting} {Value}: {Answer}", what, value, answer);
            return true;
        }
        catch (Exception e) when (e is KeeperException or MassTransit.RequestTimeoutException or OperationCanceledException or MassTransit.RequestFaultException)
        {
            logger.LogError("The monitor did not take the new {Setting} {Value}, keeping the old one (reload again to retry): {Error}", what, value, e.Message);
            return false;
        }
    }

    // ---- fencing --------------------------------------------------------------------------

    private async Task WatchAsync(CancellationToken ct)
    {
        while (!_firstReportDone) await Task.Delay(50, ct);
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(options.FenceCheckPeriod, ct);
            NodeState current;
            lock (_gate) current = _state.CurrentState;
            var running = server.IsPostmasterAlive();
            var sample = running ? await SampleAsync(ct) : null;
            if (!KeeperStates.IsWritable(current))
            {
                FollowReceiver(sample);
                continue;
            }
            FenceDecision decision;
            lock (_gate)
            {
                // A standby counts as replying when its reply_time advanced since the last look (monotonic moment of that look).
                if (sample is not null) _replies.Observe(sample.Standbys.Select(s => (s.ApplicationName, s.State, s.ReplyTime)));
                decision = Fencing.Decide(new FenceInput(clock.GetTimestamp(), _state.CurrentState, running, _lease.ExpiresAt, _replies.LastReplyAt, _lease.Duration), clock);
            }
            if (decision == FenceDecision.Fence) await FenceAsync(ct);
        }
    }

    /// <summary>One sample of the watch, or null when PostgreSQL does not answer within a few check periods (no new evidence).</summary>
    /// <remarks>
    /// While PostgreSQL refuses connections for now (starting, in crash recovery, shutting down: SQLSTATE 57P03) the
    /// watch tries every other check period (five FATAL lines a second in PostgreSQL's log, not ten): resting a whole
    /// loop period instead cost a rejoining standby up to a second between streaming and saying so. Any other failure
    /// (a slow answer on a busy box) is tried again at the next check, so a writer loses no evidence.
    /// </remarks>
    private async Task<WatchSample?> SampleAsync(CancellationToken ct)
    {
        if (_watchRestsUntil is { } until && clock.GetTimestamp() < until) return null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.FenceCheckPeriod * 3);
            return await _watch.SampleAsync(timeout.Token);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException or IOException)
        {
            if (e is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.CannotConnectNow })
                _watchRestsUntil = clock.GetTimestamp() + (long)((2 * options.FenceCheckPeriod).TotalSeconds * clock.TimestampFrequency);
            return null;
        }
    }

    /// <summary>
    /// A standby whose WAL receiver stops (its primary died or was cut off) or starts streaming reports at once instead
    /// of at the end of its period: the monitor counts the old primary's lease from the report that says "disconnected".
    /// </summary>
    private void FollowReceiver(WatchSample? sample)
    {
        var streaming = sample is { ReceiverStreaming: true };
        if (_receiverStreaming is { } was && was != streaming)
        {
            logger.LogInformation("WAL receiver {Change}: reporting now", streaming ? "streaming" : "stopped streaming");
            _reporterWake.Release();
        }
        _receiverStreaming = streaming;
    }

    /// <summary>
    /// Stop taking writes at once (fast shutdown begun: new sessions refused, open ones terminated), then wait for
    /// PostgreSQL to stop and self-assign demote_timeout (docs/failover-timing.md). The first step does not wait for the actor: a
    /// transition in progress must not hold the fence past the monitor's margin (it fails and is retried; nothing
    /// restarts a writer without a lease).
    /// </summary>
    private async Task FenceAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            var decision = Fencing.Decide(new FenceInput(clock.GetTimestamp(), _state.CurrentState, server.IsPostmasterAlive(), _lease.ExpiresAt,
                _replies.LastReplyAt, _lease.Duration), clock);
            if (decision != FenceDecision.Fence) return;
        }
        logger.LogCritical("Primary lease expired and no standby replied within {Window}: fencing PostgreSQL (fast shutdown)", _lease.Duration);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        server.BeginFastShutdown();
        await _watch.CloseAsync();
        await _act.WaitAsync(ct);
        try
        {
            await server.StopAsync(ct, "fast", options.FenceTimeout);
            Fences.Add(1);
            lock (_gate)
            {
                _lease.Fenced();
                RecordLease();
                _state = _state with { CurrentState = NodeState.DemoteTimeout, AssignedState = NodeState.DemoteTimeout };
                Save(_state);
            }
            logger.LogCritical("Fenced in {Elapsed:F2} s: PostgreSQL stopped, current state is now \"demote_timeout\"", watch.Elapsed.TotalSeconds);
            _reporterWake.Release();
        }
        finally
        {
            _act.Release();
        }
    }
}
