using System.Diagnostics;
using PgAutoFailover.Monitor.Core;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Puts one failover's decisions in one trace (docs/architecture.md#traces). A decision's span is normally a child of
/// the message that triggered it. The decision that begins a failover is instead a child of the first failed probe in
/// the old primary's current failing streak (the probe that condemned it; the trigger, often a timer or a standby's
/// report, is linked); every later decision of that failover is a child of that one, linked to its own trigger. Goals
/// sent within a decision's span carry its context in MassTransit's headers, so the promoted keeper's transition
/// lands in the same trace. One per group, used under the group's gate; in memory only, so a monitor restarted in the
/// middle of a failover starts new traces.
/// </summary>
public sealed class DecisionTracing
{
    public static readonly ActivitySource Source = new(MonitorService.Telemetry.ServiceName);

    private readonly Dictionary<long, ActivityContext> _failingSince = [];
    private (Guid FailoverId, ActivityContext Context)? _failover;

    /// <summary>Starts the span of <paramref name="decision"/>, taken on <paramref name="before"/> for <paramref name="trigger"/>.</summary>
    public Activity? Start(GroupState before, Trigger trigger, Decision decision, DateTimeOffset startedAt)
    {
        var cause = Activity.Current?.Context ?? default;
        if (trigger is ProbeTrigger probe)
        {
            if (probe.Succeeded) _failingSince.Remove(probe.NodeId);
            else if (cause != default) _failingSince.TryAdd(probe.NodeId, cause);
        }
        var parent = Parent(before, decision);
        ActivityLink[]? links = parent != default && cause != default && parent != cause ? [new ActivityLink(cause)] : null;
        // A default parent means Activity.Current: the consumer's span of the trigger, or none for a timer.
        var activity = Source.StartActivity("decide group", ActivityKind.Internal, parent, links: links, startTime: startedAt);
        activity?.SetTag("pgaf.trigger.kind", trigger.GetType().Name);
        return activity;
    }

    /// <summary>Remembers the span that began a failover, for the decisions that carry it on; forgets it when it ends.</summary>
    public void Decided(Decision decision, GroupState after, Activity? activity)
    {
        if (decision.Events.OfType<FailoverBegan>().FirstOrDefault() is { } began && activity is not null)
        {
            _failover = (began.FailoverId, activity.Context);
        }
        if (after.Failover is { } failover) activity?.SetTag("pgaf.failover_id", failover.FailoverId.ToString());
        else _failover = null;
    }

    private ActivityContext Parent(GroupState before, Decision decision)
    {
        if (decision.Events.OfType<FailoverBegan>().FirstOrDefault() is { } began)
        {
            return began.OldPrimaryId is { } old && _failingSince.TryGetValue(old, out var probe) ? probe : default;
        }
        return before.Failover is { } failover && _failover is { } known && known.FailoverId == failover.FailoverId ? known.Context : default;
    }
}
