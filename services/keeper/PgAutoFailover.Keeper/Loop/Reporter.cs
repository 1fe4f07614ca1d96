using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Monitor;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>
/// The reporter (services/keeper/README.md): observes PostgreSQL and sends ReportNodeState every
/// <see cref="KeeperCore.ReportPeriod"/> and at once when woken (a transition completed, the WAL receiver changed,
/// the node fenced itself), taking the goal and the lease from the reply. It goes on while the actor is busy, so
/// the monitor sees a long clone's progress and the last error.
/// </summary>
public sealed partial class Reporter(
    KeeperOptions options,
    KeeperSession session,
    GoalReceiver goals,
    MonitorClient monitor,
    PostgresServer server,
    PgSql sql,
    StepProgress progress,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    KeeperExit exit,
    ILogger<Reporter> logger)
{
    /// <summary>The last report was refused as stale (reporter task only).</summary>
    private bool _lastReportStale;
    private long _dropped;

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await ReportOnceAsync(ct);
            session.FirstReportDone = true;
            await session.ReporterWake.WaitAsync(ReportPeriod(), ct);
            while (session.ReporterWake.CurrentCount > 0) await session.ReporterWake.WaitAsync(ct);
        }
    }

    private TimeSpan ReportPeriod()
    {
        lock (session.Gate) return KeeperCore.ReportPeriod(session.State.CurrentState, session.Lease.Duration, options.LoopPeriod);
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
        lock (session.Gate)
        {
            var sequence = session.State.ReportSequence + 1;
            // Persisted before it is sent when the disk allows; a restart raises the epoch anyway (KeeperSession.TrySave).
            session.TrySave(session.State with { ReportSequence = sequence });
            sentAt = session.Lease.ReportSent(sequence);
            TimeSpan? replyAge = session.Replies.LastReplyAt is { } r ? clock.GetElapsedTime(r) : null;
            TimeSpan? unacknowledgedAge = session.WalAcks.OldestUnacknowledgedSince is { } u ? clock.GetElapsedTime(u) : null;
            session.ReportedUnacknowledgedAge = unacknowledgedAge;
            var running = ReportedRunning(observed.Running, sentAt);
            var state = session.State;
            report = new ReportNodeState(state.Formation, state.GroupId, state.NodeId, state.CurrentState, running,
                observed.Timeline, observed.Lsn, observed.ReplicationState, replyAge, sequence, clock.GetUtcNow(),
                ReportText.OneLine(state.LastError), ReportText.OneLine(progress.Current), state.ReportEpoch, unacknowledgedAge);
        }
        try
        {
            var goal = await monitor.ReportAsync(report, ct);
            _lastReportStale = false;
            lock (session.Gate)
            {
                var wasLost = session.LastMonitorContact is null || clock.GetElapsedTime(session.LastMonitorContact.Value) > 3 * options.LoopPeriod + options.MonitorTimeout;
                session.LastMonitorContact = clock.GetTimestamp();
                session.State = session.State with { LastMonitorContact = clock.GetUtcNow() };
                if (wasLost) Log.MonitorReachedAgain(logger, KeeperStates.Name(goal.GoalState));
                goals.Apply(goal, replyToReportSentAt: sentAt);
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
            lock (session.Gate)
            {
                session.TrySave(session.State with { ReportEpoch = epoch });
            }
            Log.ReportRefusedAsStale(logger, report.Sequence, e.Message, epoch);
            if (!_lastReportStale) session.ReporterWake.Release();
            _lastReportStale = true;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            Log.ReportFailed(logger, e.Message);
        }
    }

    /// <summary>docs/states.md#health (under the gate): the pg-is-running flag to report, damped for a primary whose PostgreSQL the keeper is restarting.</summary>
    private bool ReportedRunning(bool observed, long now)
    {
        var wasHiding = session.Damping.Hiding;
        var reported = session.Damping.Reported(session.State.CurrentState, session.State.AssignedState, observed, now,
            options.PostgresRestartFailureTimeout, options.PostgresRestartFailureMaxRetries);
        if (session.Damping.Hiding && !wasHiding)
        {
            Log.HidingPrimaryRestart(logger, options.PostgresRestartFailureMaxRetries, options.PostgresRestartFailureTimeout);
        }
        else if (wasHiding && !reported && !observed)
        {
            // Either the restarts ran out, or the node is no longer a converged primary (the monitor moved the role
            // away, or its transition began): only the first is a failure.
            if (session.State.CurrentState == NodeState.Primary && session.State.AssignedState == NodeState.Primary)
                Log.PrimaryRestartsFailed(logger, session.Damping.FailedRestarts);
            else
                Log.NoLongerHiding(logger, KeeperStates.Name(session.State.CurrentState), KeeperStates.Name(session.State.AssignedState));
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
        lock (session.Gate)
        {
            if (session.State.AssignedState == NodeState.Dropped && !session.GoalConfirmed)
            {
                Log.FinishingForcedDrop(logger);
                session.GoalConfirmed = true;
                session.ActorWake.Release();
                return;
            }
        }
        Log.NodeUnknownToMonitor(logger, e.Message);
    }

    private void NodeDropped()
    {
        if (Interlocked.Exchange(ref _dropped, 1) == 1) return;
        var state = session.Snapshot();
        Log.NodeDropped(logger, state.NodeId, KeeperExit.NodeDropped);
        exit.Error = $"node {state.NodeId} was dropped from formation {state.Formation}; its data directory is left as it is";
        exit.Code = KeeperExit.NodeDropped;
        lifetime.ApplicationStarted.Register(lifetime.StopApplication);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Goal state fetched from the monitor: {Goal}")]
        public static partial void MonitorReachedAgain(ILogger logger, string goal);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The monitor refused report #{Sequence}: {Reason}; reporting again as epoch {Epoch}")]
        public static partial void ReportRefusedAsStale(ILogger logger, long sequence, string reason, long epoch);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not fetch the goal state from the monitor: {Error}")]
        public static partial void ReportFailed(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL is down in state primary: restarting it, and reporting it as running for up to {Retries} failed restarts or {Timeout}")]
        public static partial void HidingPrimaryRestart(ILogger logger, int retries, TimeSpan timeout);

        [LoggerMessage(Level = LogLevel.Error, Message = "PostgreSQL is still down after {Failed} failed restarts: reporting it as not running")]
        public static partial void PrimaryRestartsFailed(ILogger logger, int failed);

        [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL is down and the node is no longer a converged primary ({Current}, goal {Goal}): reporting it as not running")]
        public static partial void NoLongerHiding(ILogger logger, string current, string goal);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The monitor no longer knows this node, which was told to drop: finishing the drop")]
        public static partial void FinishingForcedDrop(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not fetch the goal state from the monitor: {Error}")]
        public static partial void NodeUnknownToMonitor(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Node {NodeId} was dropped from the monitor: the keeper stops (exit code {Code})")]
        public static partial void NodeDropped(ILogger logger, long nodeId, int code);
    }
}
