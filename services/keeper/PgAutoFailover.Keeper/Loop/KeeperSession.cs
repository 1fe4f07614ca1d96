using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>
/// What the reporter, the actor, the watch and goal intake share in one keeper run: the persisted
/// <see cref="KeeperState"/> and what they learn at run time (the lease, standby replies, restart damping, when the
/// monitor last answered). Everything mutable here is read and written under <see cref="Gate"/>; the two wake
/// signals and the act lock are how the tasks hand work to each other.
/// </summary>
public sealed partial class KeeperSession(KeeperOptions options, PostgresServer server, TimeProvider clock, ILogger<KeeperSession> logger)
{
    private readonly StateStore _store = new(options.StateFile);
    private long? _leaseFileExpiry;
    private KeeperState _state = new();

    /// <summary>Guards every mutable member of the session.</summary>
    public Lock Gate { get; } = new();

    /// <summary>One step that changes PostgreSQL at a time: a transition, a check, the fence, an HBA rewrite.</summary>
    public SemaphoreSlim ActLock { get; } = new(1, 1);

    /// <summary>Released when the actor should look again now (a new goal, a lease it waited for).</summary>
    public SemaphoreSlim ActorWake { get; } = new(0, int.MaxValue);

    /// <summary>Released when the reporter should report now (a completed transition, a receiver change, a fence).</summary>
    public SemaphoreSlim ReporterWake { get; } = new(0, int.MaxValue);

    public LeaseTracker Lease { get; } = new(clock);
    public StandbyReplyTracker Replies { get; } = new(clock);
    public WalAckTracker WalAcks { get; } = new();
    public RestartDamping Damping { get; } = new(clock);

    /// <summary>The state (under the gate). Setting it does not persist it: <see cref="Save"/> does.</summary>
    public KeeperState State
    {
        get => _state;
        set => _state = value;
    }

    /// <summary>The state as persisted, read under the gate.</summary>
    public KeeperState Snapshot()
    {
        lock (Gate) return _state;
    }

    /// <summary>A goal came from the monitor in this process (under the gate).</summary>
    public bool GoalConfirmed { get; set; }

    /// <summary>The age of unacknowledged WAL the last report carried, until the watch reported its end (under the gate).</summary>
    public TimeSpan? ReportedUnacknowledgedAge { get; set; }

    /// <summary>Monotonic moment of the last answered report (under the gate).</summary>
    public long? LastMonitorContact { get; set; }

    /// <summary>The trace of the last pushed goal not yet reached (under the gate).</summary>
    public GoalTrace? GoalTrace { get; set; }

    /// <summary>The actor stopped short of taking writes for want of a lease (under the gate).</summary>
    public bool ActorNeedsLease { get; set; }

    /// <summary>The first report of this run was sent (the watch starts after it).</summary>
    public bool FirstReportDone { get => Volatile.Read(ref _firstReportDone); set => Volatile.Write(ref _firstReportDone, value); }
    private bool _firstReportDone;

    public bool StateFileExists => _store.Exists;
    public KeeperState? LoadStateFile() => _store.Load();

    /// <summary>Replaces and persists the state (under the gate, or before the tasks start).</summary>
    public void Save(KeeperState state)
    {
        State = state;
        _store.Save(state);
        if (_saveFailing) LogStateSavedAgain(options.StateFile);
        _saveFailing = false;
    }

    /// <summary>
    /// Saves what is only worth keeping, not worth stopping for (the last error, a report's sequence, an assigned goal
    /// the monitor sends again with every reply): the state changes in memory, and when the file cannot be written (a
    /// full disk) that is logged once and the keeper goes on; the next save writes it all. A transition's result is
    /// saved with <see cref="Save"/>, whose failure fails the transition, which is then tried again.
    /// </summary>
    /// <remarks>Reports stay ordered without the sequence on disk: a restarted keeper persists a higher epoch before it reports.</remarks>
    public void TrySave(KeeperState state)
    {
        State = state;
        try
        {
            Save(state);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!_saveFailing) LogStateNotSaved(options.StateFile, e.Message);
            _saveFailing = true;
        }
    }

    private bool _saveFailing;

    /// <summary>Changes and persists the state, taking the gate.</summary>
    public KeeperState Update(Func<KeeperState, KeeperState> change)
    {
        lock (Gate)
        {
            Save(change(_state));
            return _state;
        }
    }

    /// <summary>Records a transition or check error on the state (taking the gate), unless it is already there.</summary>
    public void RecordError(string? message)
    {
        lock (Gate)
        {
            if (_state.LastError != message) TrySave(_state with { LastError = message });
        }
    }

    /// <summary>The monitor answered a report within three loop periods plus its timeout (under the gate).</summary>
    public bool MonitorReachedRecently =>
        LastMonitorContact is { } t && clock.GetElapsedTime(t) < 3 * options.LoopPeriod + options.MonitorTimeout;

    // ---- the lease PostgreSQL may outlive this keeper by (LeaseFile) -----------------------------------

    /// <summary>
    /// At start: this process now owns the PostgreSQL the previous keeper left running, and the lease that keeper
    /// still held (a primary whose keeper was restarted within its lease goes on taking writes).
    /// </summary>
    public void InheritLease()
    {
        var until = server.Lease.ReadUntil();
        server.Lease.Write(Environment.ProcessId, until);
        var remainingMs = until - LeaseFile.UptimeMs();
        if (remainingMs <= 0 || !KeeperStates.IsWritable(_state.CurrentState) || !server.IsPostmasterAlive()) return;
        lock (Gate)
        {
            Lease.Inherit(clock.GetTimestamp() + remainingMs * clock.TimestampFrequency / 1000);
            _leaseFileExpiry = Lease.ExpiresAt;
        }
        LogLeaseInherited(KeeperStates.Name(_state.CurrentState), remainingMs);
    }

    /// <summary>(Under the gate.) Records the lease held now where the watchdog reads it, when it moved.</summary>
    public void RecordLease()
    {
        if (Lease.ExpiresAt == _leaseFileExpiry) return;
        _leaseFileExpiry = Lease.ExpiresAt;
        var remainingMs = Lease.ExpiresAt is { } expiry ? (expiry - clock.GetTimestamp()) * 1000 / clock.TimestampFrequency : 0;
        try
        {
            server.Lease.Write(Environment.ProcessId, remainingMs > 0 ? LeaseFile.UptimeMs() + remainingMs : 0);
        }
        catch (IOException e)
        {
            // Then PostgreSQL outlives a dead keeper by less than the lease (the older value), never by more.
            LogLeaseNotRecorded(server.Lease.Path, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL runs as {State} with {Remaining} ms left of the previous keeper's lease: taking it over")]
    private partial void LogLeaseInherited(string state, long remaining);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not save the keeper state to {Path}: {Error}; going on with it in memory until it can be written")]
    private partial void LogStateNotSaved(string path, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Keeper state saved to {Path} again")]
    private partial void LogStateSavedAgain(string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the lease in {Path}: {Error}")]
    private partial void LogLeaseNotRecorded(string path, string error);
}
