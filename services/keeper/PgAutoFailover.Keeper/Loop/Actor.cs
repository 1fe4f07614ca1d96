using System.Diagnostics.Metrics;
using PgAutoFailover.Keeper.Actions;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>
/// The actor (services/keeper/README.md): gathers what <see cref="KeeperCore.Next"/> needs, and runs the step it
/// returns: the transition towards the assigned goal, persisting the new current state only after it succeeded, or
/// the check of the current state when converged. Woken at once by a new goal or by the lease it waited for,
/// otherwise every loop period.
/// </summary>
public sealed partial class Actor(
    KeeperOptions options,
    KeeperSession session,
    TransitionRunner runner,
    CurrentStateCheck check,
    HbaRules hba,
    PostgresServer server,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<Actor> logger)
{
    private static readonly Meter Meter = new(KeeperService.Telemetry.ServiceName);
    private static readonly Counter<long> Transitions = Meter.CreateCounter<long>("pgaf.keeper.transitions");

    private bool _createDone;

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await session.ActorWake.WaitAsync(options.LoopPeriod, ct);
            while (session.ActorWake.CurrentCount > 0) await session.ActorWake.WaitAsync(ct);
            bool again;
            do
            {
                again = await ActOnceAsync(ct);
            } while (again && !ct.IsCancellationRequested);
        }
    }

    /// <summary>(Under the gate.) What <see cref="KeeperCore.Next"/> decides on.</summary>
    private ActorInput Observe(bool postgresRunning) => new(
        session.State.CurrentState, session.State.AssignedState, session.GoalConfirmed, session.MonitorReachedRecently,
        postgresRunning, clock.GetTimestamp(), session.Lease.ExpiresAt, options.ExitAfterCreate && !_createDone);

    /// <summary>One step; true when a transition completed (act again at once).</summary>
    private async Task<bool> ActOnceAsync(CancellationToken ct)
    {
        // safety rule 5 (docs/architecture.md#safety-rules): after a (re)start nothing happens until the monitor has spoken.
        lock (session.Gate)
        {
            if (!session.GoalConfirmed) return false;
        }
        await session.ActLock.WaitAsync(ct);
        try
        {
            KeeperState state;
            lock (session.Gate) state = session.State;
            await hba.FollowGroupHostsAsync(state.LastGoal, ct);
            var running = server.IsPostmasterAlive();
            ActorStep step;
            lock (session.Gate)
            {
                state = session.State;
                step = KeeperCore.Next(Observe(running));
            }
            switch (step.Kind)
            {
                case ActorStepKind.Wait:
                    return false;
                case ActorStepKind.FinishCreate:
                    _createDone = true;
                    Log.CreateDone(logger, KeeperStates.Name(state.CurrentState));
                    lifetime.StopApplication();
                    return false;
                case ActorStepKind.WaitForLease:
                    lock (session.Gate) session.ActorNeedsLease = true;
                    session.ReporterWake.Release();
                    Log.NotYet(logger, step.Reason);
                    return false;
                case ActorStepKind.Unknown:
                    if (state.LastError != step.Reason) Log.UnknownTransition(logger, step.Reason);
                    session.RecordError(step.Reason);
                    return false;
                case ActorStepKind.Check:
                    await CheckAsync(state, step.RestartsWriter, ct);
                    return false;
                default:
                    await TransitionAsync(state, step.Row!, ct);
                    return true;
            }
        }
        catch (NotYetException e)
        {
            Log.NotYet(logger, e.Message);
            return false;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            var message = e is KeeperException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            Log.StepFailed(logger, e is KeeperException ? e.Message : e.ToString());
            lock (session.Gate) session.TrySave(session.State with { LastError = message });
            return false;
        }
        finally
        {
            session.ActLock.Release();
        }
    }

    /// <summary>Converged: make PostgreSQL what the current state wants; a passing check ends an earlier check's error.</summary>
    private async Task CheckAsync(KeeperState state, bool restartsWriter, CancellationToken ct)
    {
        try
        {
            await check.EnsureAsync(state.CurrentState, state.LastGoal, ct);
        }
        catch (Exception e) when (restartsWriter && e is not (NotYetException or OperationCanceledException))
        {
            lock (session.Gate) session.Damping.RestartFailed(clock.GetTimestamp());
            throw;
        }
        lock (session.Gate)
        {
            if (session.State.LastError is not null && session.State.CurrentState == state.CurrentState) session.TrySave(session.State with { LastError = null });
        }
    }

    private async Task TransitionAsync(KeeperState state, Transition transition, CancellationToken ct)
    {
        GoalTrace? trace;
        lock (session.Gate) trace = session.GoalTrace;
        // Started first, so the log lines of the transition carry the failover's trace id.
        using var activity = GoalTrace.StartTransition(trace, transition.From ?? state.CurrentState, transition.To);
        activity?.SetTag("pgaf.node_id", state.NodeId);
        activity?.SetTag("pgaf.transition", transition.Id);
        activity?.SetTag("pgaf.plan", string.Join(" + ", transition.Plan));
        try
        {
            await RunTransitionAsync(state, transition, ct);
        }
        catch (Exception e)
        {
            if (e is NotYetException) activity?.SetTag("pgaf.not_yet", e.Message);
            else activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            throw;
        }
        lock (session.Gate)
        {
            if (session.GoalTrace?.Goal == transition.To) session.GoalTrace = null;
        }
    }

    private async Task RunTransitionAsync(KeeperState state, Transition transition, CancellationToken ct)
    {
        Log.TransitionStarting(logger, KeeperStates.Name(transition.From ?? state.CurrentState), KeeperStates.Name(transition.To), transition.Comment, transition.Id, string.Join(" + ", transition.Plan));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var systemIdentifier = await runner.RunAsync(transition, state, state.LastGoal, ct);
        lock (session.Gate)
        {
            session.Save(session.State with
            {
                CurrentState = transition.To, LastError = null,
                SystemIdentifier = systemIdentifier ?? session.State.SystemIdentifier,
            });
        }
        Transitions.Add(1);
        Log.TransitionComplete(logger, watch.Elapsed.TotalSeconds, KeeperStates.Name(transition.To));
        session.ReporterWake.Release();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Reached {State}: create is done")]
        public static partial void CreateDone(ILogger logger, string state);

        [LoggerMessage(Level = LogLevel.Information, Message = "Not yet: {Reason}")]
        public static partial void NotYet(ILogger logger, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "{Message}")]
        public static partial void UnknownTransition(ILogger logger, string message);


        [LoggerMessage(Level = LogLevel.Error, Message = "Transition or check failed, retrying next cycle: {Error}")]
        public static partial void StepFailed(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Information, Message = "FSM transition from \"{From}\" to \"{To}\": {Comment} [{Id}: {Plan}]")]
        public static partial void TransitionStarting(ILogger logger, string from, string to, string comment, string id, string plan);

        [LoggerMessage(Level = LogLevel.Information, Message = "Transition complete in {Elapsed:F2} s: current state is now \"{State}\"")]
        public static partial void TransitionComplete(ILogger logger, double elapsed, string state);
    }
}
