using System.Collections.Concurrent;
using System.Diagnostics;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Runs triggers through the decision core, one at a time per group: load (from cache, reloading when
/// the store moved on), decide, append the durable events with optimistic concurrency, fold them in,
/// queue the liveness-only ones, publish. A version conflict means another monitor instance advanced
/// the group: reload and decide again from its history, so no two instances advance a group from one
/// version.
/// </summary>
public sealed partial class GroupCoordinator(
    GroupStore store,
    MonitorCore core,
    MonitorServiceOptions options,
    LivenessBuffer liveness,
    DecisionPublisher publisher,
    SoleHolder soleHolder,
    MonitorMetrics metrics,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<GroupCoordinator> logger)
{
    // Enough for the backoff below to outlast another instance's burst (about 3 s in all): a keeper's
    // report that faults is retried a period later, but a fault per burst is noise in the logs.
    private const int MaxConflictRetries = 20;
    private static readonly TimeSpan FirstConflictBackoff = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaxConflictBackoff = TimeSpan.FromMilliseconds(200);
    private readonly ConcurrentDictionary<string, GroupSlot> _groups = new();

    /// <summary>Latest known state of every loaded group (for queries and metrics).</summary>
    public IEnumerable<LoadedGroup> Current => _groups.Values.Select(s => s.Loaded).OfType<LoadedGroup>();

    // Set once the start-up load is done: a group first read after it is read by a running instance (RefreshAsync).
    private DateTimeOffset? _runningSince;

    /// <summary>Reads every group at start: health unknown, every lease assumed to run one more (GroupState.Restarted).</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(_ => true, cancellationToken);
        _runningSince ??= time.GetUtcNow();
    }

    /// <summary>Reads again the groups whose key matches <paramref name="which"/>, and those this instance never read.</summary>
    public async Task LoadAsync(Func<string, bool> which, CancellationToken cancellationToken)
    {
        foreach (var key in (await store.GroupKeysAsync(cancellationToken)).Where(which))
        {
            var slot = Slot(key);
            await slot.Gate.WaitAsync(cancellationToken);
            try { await RefreshAsync(slot, force: true, cancellationToken); }
            finally { slot.Gate.Release(); }
        }
    }

    /// <summary>
    /// The groups whose key matches <paramref name="which"/> are read again before their next decision: another instance
    /// held them (docs/architecture.md#groups-spread-over-monitors), so what this one holds of them may be behind.
    /// </summary>
    public void MarkStale(Func<string, bool> which)
    {
        foreach (var slot in _groups.Values.Where(s => which(s.Key))) slot.Stale = true;
    }

    /// <summary>
    /// Decides <paramref name="trigger"/> for the group <paramref name="key"/>. When the group does not exist,
    /// <paramref name="create"/> (if given) supplies its first event; otherwise the decision is null.
    /// <paramref name="verifyStreamVersion"/>: check the store for writes by another instance first. Needed
    /// when the answer is served from the cached state (a goal reply); a decision that writes is checked by
    /// the append itself, and one that writes nothing changes nothing.
    /// </summary>
    public async Task<GroupOutcome?> DecideAsync(
        string key,
        Func<GroupState, Trigger> trigger,
        CancellationToken cancellationToken,
        Func<GroupCreated>? create = null,
        bool verifyStreamVersion = true)
    {
        var arrived = Stopwatch.GetTimestamp();
        var slot = Slot(key);
        await slot.Gate.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                await RefreshAsync(slot, force: attempt > 0, cancellationToken, verifyStreamVersion);
                if (slot.Loaded is null && create is null) return null;
                try
                {
                    return await DecideOnceAsync(slot, key, trigger, create, arrived, cancellationToken);
                }
                catch (GroupVersionConflict conflict) when (attempt < MaxConflictRetries)
                {
                    metrics.Conflicts.Add(1);
                    Log.GroupMovedOn(logger, key, conflict.Message);
                    // The instance that won holds the group's cached version and skips the reload this one
                    // pays, so while it has a backlog an immediate retry loses again and again (seen in CI:
                    // 6 straight losses). Backing off, randomly and more each time, lets its burst drain.
                    await Task.Delay(ConflictBackoff(attempt), time, cancellationToken);
                }
            }
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    /// <summary>The group as last loaded, reloading first when the store moved on.</summary>
    public async Task<LoadedGroup?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        var slot = Slot(key);
        await slot.Gate.WaitAsync(cancellationToken);
        try
        {
            await RefreshAsync(slot, force: false, cancellationToken);
            return slot.Loaded;
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    private async Task<GroupOutcome> DecideOnceAsync(
        GroupSlot slot, string key, Func<GroupState, Trigger> trigger, Func<GroupCreated>? create,
        long arrived, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        IReadOnlyList<IGroupEvent> prefix = [];
        var before = slot.Loaded;
        var loaded = before ?? new LoadedGroup(key, GroupProjection.Rebuild(prefix = [create!()]), 0);
        var input = trigger(loaded.State);
        var decision = core.Decide(loaded.State, input, now);
        if (!decision.Accepted && before is null)
        {
            return new GroupOutcome(loaded.State, loaded.State, decision, 0, 0, Created: false);
        }
        // The span covers the store write (Npgsql's spans are its children) and the goals sent, which carry it on to
        // the keepers: trigger → decision → AssignGoalState → transition, in one trace (DecisionTracing).
        using var activity = slot.Tracing.Start(loaded.State, input, decision, now);
        activity?.SetTag("pgaf.group", key);

        var after = decision.Events.Aggregate(loaded.State, GroupProjection.Apply);
        var durable = prefix.Concat(decision.Events.Where(e => !e.LivenessOnly)).ToList();
        var outcome = new GroupOutcome(loaded.State, after, decision, loaded.Version, loaded.Version + durable.Count, before is null);
        // What the decision publishes is stored with its events: a crash before the publish does not lose it.
        var messages = DecisionPublisher.Messages(key, outcome, now);
        var stored = decision.Accepted && durable.Count > 0 && messages.Messages.Count > 0;
        if (durable.Count > 0) await store.AppendAsync(loaded, durable, after, stored ? messages.ToBatch(now) : null, cancellationToken);
        if (options.FaultKillAfterStoring is { Length: > 0 } fault && durable.Any(e => e.GetType().Name == fault))
        {
            Log.KilledByFaultHook(logger, fault, key, outcome.Version);
            Process.GetCurrentProcess().Kill(); // as SIGKILL: no publish, no cleanup (tests only, docs/events.md#delivery)
        }
        slot.Loaded = new LoadedGroup(key, after, outcome.Version);
        liveness.Record(key, decision.Events.Where(e => e.LivenessOnly));

        slot.Tracing.Decided(decision, after, activity);
        activity?.SetTag("pgaf.trigger", decision.Accepted ? "accepted" : decision.Refusal!.Kind.ToString());
        activity?.SetTag("pgaf.assignments", decision.Assignments.Count);
        activity?.SetTag("pgaf.version", outcome.Version);
        if (decision.Accepted) await publisher.PublishAsync(outcome, messages, stored, cancellationToken);
        metrics.RecordDecision(outcome, Stopwatch.GetElapsedTime(arrived));
        if (decision.WakeAt is { } at) WakeAt(slot, at);
        return outcome;
    }

    /// <summary>
    /// Decides the group again at <paramref name="at"/>, when time alone may change its decision (a candidate
    /// waiting for the old primary's lease): the failover then goes on at that instant, not at the next timer tick
    /// up to <see cref="MonitorServiceOptions.TimerPeriod"/> later. One pending wake per group, the earliest.
    /// </summary>
    private void WakeAt(GroupSlot slot, DateTimeOffset at)
    {
        lock (slot)
        {
            if (slot.WakeAt is { } pending && pending <= at) return;
            slot.WakeAt = at;
        }
        _ = Task.Run(async () =>
        {
            var stopping = lifetime.ApplicationStopping;
            try
            {
                var delay = at - time.GetUtcNow();
                if (delay > TimeSpan.Zero) await Task.Delay(delay, time, stopping);
                lock (slot)
                {
                    if (slot.WakeAt != at) return; // an earlier wake replaced this one and decides for it
                    slot.WakeAt = null;
                }
                await DecideAsync(slot.Key, _ => new TimerTrigger(), stopping, verifyStreamVersion: false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                // The store or the broker may be down: the periodic timer tries again.
                Log.TimedEvaluationGroupFailed(logger, e, slot.Key);
            }
        }, CancellationToken.None);
    }

    private async Task RefreshAsync(GroupSlot slot, bool force, CancellationToken cancellationToken, bool verify = true)
    {
        if (!force && slot.Loaded is not null && !slot.Stale)
        {
            if (!verify || !options.VerifyStreamVersion || soleHolder.Holds(slot.Key)) return;
            var stored = await store.StreamVersionAsync(slot.Key, cancellationToken);
            if (stored == slot.Loaded.Version) return;
        }
        var loaded = await store.LoadAsync(slot.Key, cancellationToken);
        // A state rebuilt from the store may lack the liveness another instance has not flushed yet: every lease is
        // assumed to run one more. A group this instance already held (another instance advanced it) keeps its start
        // and the stored health verdicts; one loaded at start begins with health unknown (GroupState explains why).
        // A group first read after the start-up load (another instance created it, or held it alone) is read as by a
        // running instance: its stored health verdicts are the latest anyone made.
        var now = time.GetUtcNow();
        slot.Loaded = loaded is null ? null : loaded with
        {
            State = (slot.Loaded?.State.MonitorStartedAt ?? _runningSince) is { } startedAt
                ? loaded.State.ReloadedWhileRunning(now, core.Options, startedAt)
                : loaded.State.Restarted(now, core.Options),
        };
        slot.Stale = false;
        if (loaded is not null) Log.GroupLoaded(logger, slot.Key, loaded.Version);
    }

    private static TimeSpan ConflictBackoff(int attempt)
    {
        var ceiling = Math.Min(MaxConflictBackoff.TotalMilliseconds, FirstConflictBackoff.TotalMilliseconds * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + Random.Shared.NextDouble() / 2));
    }

    private GroupSlot Slot(string key) => _groups.GetOrAdd(key, k => new GroupSlot(k));

    private sealed class GroupSlot(string key)
    {
        public string Key { get; } = key;
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public LoadedGroup? Loaded { get; set; }
        public bool Stale { get; set; }
        public DateTimeOffset? WakeAt { get; set; }
        public DecisionTracing Tracing { get; } = new();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Critical, Message = "Fault hook Monitor:FaultKillAfterStoring={Fault}: killing this process after storing {Group} at version {Version}")]
        public static partial void KilledByFaultHook(ILogger logger, string fault, string group, long version);

        // Debug: with several monitors this is how an instance learns another one advanced a group, several times a second.
        [LoggerMessage(Level = LogLevel.Debug, Message = "Group {Group} moved on in the store ({Reason}); deciding again")]
        public static partial void GroupMovedOn(ILogger logger, string group, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Timed evaluation of group {Group} failed")]
        public static partial void TimedEvaluationGroupFailed(ILogger logger, Exception exception, string group);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Loaded group {Group} at version {Version}")]
        public static partial void GroupLoaded(ILogger logger, string group, long version);
    }
}
