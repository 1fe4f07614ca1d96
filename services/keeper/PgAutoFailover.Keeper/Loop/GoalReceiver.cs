using System.Diagnostics;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Monitor;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>
/// Goals reach the keeper two ways: pushed on its goal queue (AssignGoalState, the moment the monitor decides) and in
/// the reply to each report. Both come here; <see cref="KeeperCore.TakeGoal"/> decides what is taken and whether
/// the actor wakes.
/// </summary>
public sealed partial class GoalReceiver(KeeperOptions options, KeeperSession session, MonitorClient monitor, ILogger<GoalReceiver> logger)
{
    /// <summary>Listens on the node's goal queue, retrying until the broker lets it.</summary>
    public async Task ConnectGoalQueueAsync(CancellationToken ct)
    {
        var nodeId = session.Snapshot().NodeId;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await monitor.ConnectGoalQueueAsync(nodeId, OnAssignGoalAsync, ct);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.GoalQueueNotListening(logger, MonitorClient.GoalQueue(nodeId), e.Message);
                await Task.Delay(options.LoopPeriod, ct);
            }
        }
    }

    private Task OnAssignGoalAsync(AssignGoalState message)
    {
        lock (session.Gate)
        {
            var state = session.State;
            if (message.Goal.NodeId != state.NodeId) return Task.CompletedTask;
            if (message.GroupVersion < state.LastGroupVersion)
            {
                Log.StaleGoalDropped(logger, message.GroupVersion, state.LastGroupVersion);
                return Task.CompletedTask;
            }
            Log.GoalPushed(logger, KeeperStates.Name(message.Goal.GoalState), message.Description);
            // Replies to reports sent before this push may carry the goal it replaces.
            session.Lease.GoalPushed();
            Apply(message.Goal, replyToReportSentAt: null, message.GroupVersion);
            // The first push of a goal names the decision that made it; later pushes of the same goal only repeat it.
            if (Activity.Current is { } consumed && session.State.AssignedState == message.Goal.GoalState && session.GoalTrace?.Goal != message.Goal.GoalState)
            {
                session.GoalTrace = new GoalTrace(message.Goal.GoalState, consumed.Context);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>(Under the gate.) Takes a goal: its lease, counted from its report's send time, and its state unless superseded.</summary>
    /// <remarks>
    /// One save (an fsync) per goal: each is on a switchover's critical path, and while the old primary writes its
    /// shutdown checkpoint to the same file system an fsync here took 20-30 ms.
    /// </remarks>
    public void Apply(NodeGoal goal, long? replyToReportSentAt, long? groupVersion = null)
    {
        session.Lease.Granted(goal.Lease);
        session.RecordLease();
        if (goal.Lease is not null && session.ActorNeedsLease)
        {
            // The promotion waits for this lease: go on now, not a loop period later.
            session.ActorNeedsLease = false;
            session.ActorWake.Release();
        }
        var state = groupVersion is { } version ? session.State with { LastGroupVersion = version } : session.State;
        var superseded = replyToReportSentAt is { } sentAt && !session.Lease.ReplyGoalIsCurrent(sentAt);
        var intake = KeeperCore.TakeGoal(state.AssignedState, goal.GoalState, firstWord: !session.GoalConfirmed, superseded);
        if (intake == GoalIntake.Ignore)
        {
            if (state != session.State) session.TrySave(state);
            return;
        }
        session.GoalConfirmed = true;
        session.TrySave(state with { AssignedState = goal.GoalState, LastGoal = goal, GroupId = goal.GroupId });
        if (intake == GoalIntake.TakeChanged)
        {
            Log.GoalAssigned(logger, KeeperStates.Name(goal.GoalState), KeeperStates.Name(state.CurrentState));
        }
        if (intake is GoalIntake.TakeChanged or GoalIntake.TakeAndWake) session.ActorWake.Release();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not listen on {Queue}: {Error}; retrying")]
        public static partial void GoalQueueNotListening(ILogger logger, string queue, string error);

        [LoggerMessage(Level = LogLevel.Information, Message = "Dropping AssignGoalState version {Version}: older than {Seen}")]
        public static partial void StaleGoalDropped(ILogger logger, long version, long seen);

        [LoggerMessage(Level = LogLevel.Information, Message = "Goal pushed by the monitor: {Goal} ({Description})")]
        public static partial void GoalPushed(ILogger logger, string goal, string description);

        [LoggerMessage(Level = LogLevel.Information, Message = "Assigned state {Goal} (current {Current})")]
        public static partial void GoalAssigned(ILogger logger, string goal, string current);
    }
}
