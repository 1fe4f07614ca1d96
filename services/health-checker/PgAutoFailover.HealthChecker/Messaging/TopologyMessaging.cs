using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.HealthChecker.Probing;

namespace PgAutoFailover.HealthChecker.Messaging;

/// <summary>Every FormationTopologyChanged, on this checker's own queue: each checker probes every node.</summary>
public sealed partial class FormationTopologyChangedConsumer(ProbeTargets targets, ILogger<FormationTopologyChangedConsumer> logger)
    : IConsumer<FormationTopologyChanged>
{
    public Task Consume(ConsumeContext<FormationTopologyChanged> context)
    {
        var snapshot = context.Message;
        if (targets.Apply(snapshot))
        {
            Log.ProbingNodes(logger, snapshot.Nodes.Count(n => n.GoalState != NodeState.Dropped), snapshot.Formation, snapshot.Version);
        }
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Probing {NodeCount} nodes of {Formation} (topology version {Version})")]
        public static partial void ProbingNodes(ILogger logger, int nodeCount, string formation, long version);
    }
}
