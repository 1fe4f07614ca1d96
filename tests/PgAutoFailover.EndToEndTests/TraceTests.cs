using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;
using PgAutoFailover.Testing.Otlp;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 15 part 5: every process of a real cluster exports its spans over OTLP/HTTP, as to any collector, to a
/// receiver in this test. The primary's processes are killed; the keeper's promote is then one trace with the
/// health-checker's failed probe of the old primary at its root, the monitor's decisions (with Npgsql's spans of the
/// store writes) between them, and the keeper's log line for the promote carries that trace id
/// (docs/architecture.md#traces).
/// </summary>
public sealed class TraceTests(RabbitMqFixture broker, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_failover_is_one_trace_from_the_failed_probe_through_the_stored_decisions_to_the_promote()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var cluster = await ProcessCluster.StartAsync(await broker.NewVirtualHostAsync(), environment: receiver.Environment);
        await cluster.WithLogsAsync(async () =>
        {
            await cluster.AddNodesAndConvergeAsync("node1", "node2");
            DataNode node1 = cluster.Node("node1"), node2 = cluster.Node("node2");
            await FailoverScenarios.WaitSynchronousAsync(node1, 1);
            var state = await cluster.StateAsync();
            string oldPrimaryId = Id(cluster.NodeId(state, "node1")), candidateId = Id(cluster.NodeId(state, "node2"));

            output.WriteLine($"before the crash: {Summary(receiver)}");
            await node1.CrashAsync();
            await cluster.WaitForAsync(s => s.Nodes.Any(n => n.Node.NodeName == "node2" && n.ReportedState is NodeState.WaitPrimary or NodeState.Primary),
                "node2 promoted", Patience);

            // The promote: the transition in which node2 takes writes (after a crash, stop_replication → wait_primary).
            OtlpSpan? promote;
            try
            {
                promote = await Eventually.ValueAsync(() => Task.FromResult(receiver.Spans.FirstOrDefault(s =>
                    s.Service == "PgAutoFailover.Keeper" && s.Attribute("pgaf.node_id") == candidateId && s.Attribute("pgaf.to") == "wait_primary")), "the span of the keeper's promote", Patience);
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}; spans received: {Summary(receiver)}", e);
            }
            // Spans end (and are exported) in any order: wait until the promote's chain of parents reaches a root.
            var chain = await Eventually.ValueAsync(() => Task.FromResult(Ancestry(receiver.Trace(promote!.TraceId), promote)),
                $"the promote's ancestors up to the trace's root, trace {promote!.TraceId}", TimeSpan.FromSeconds(30));
            var trace = receiver.Trace(promote.TraceId);
            output.WriteLine(string.Join('\n', chain!.Select(s => s.ToString())));

            var root = chain![^1];
            Assert.True(root is { Service: "PgAutoFailover.HealthChecker", Name: "probe node" }, $"the trace's root is {root}");
            Assert.Equal("false", root.Attribute("pgaf.probe.succeeded"));
            Assert.Equal(oldPrimaryId, root.Attribute("pgaf.node_id"));

            // The pg_promote() itself, one transition earlier, is in the same trace.
            Assert.Contains(trace, s => s.Service == "PgAutoFailover.Keeper"
                && s.Attribute("pgaf.plan") is { } plan && (plan.Contains("StopReplication", StringComparison.Ordinal) || plan.Contains("PromoteStandby", StringComparison.Ordinal)));

            // Probe → monitor's decisions → the keeper's goal → the promote, every hop a process boundary.
            var services = chain.Select(s => s.Service).Reverse().Distinct().ToList();
            Assert.Equal(["PgAutoFailover.HealthChecker", "PgAutoFailover.Monitor", "PgAutoFailover.Keeper"], services);
            var decisions = trace.Where(s => s is { Service: "PgAutoFailover.Monitor", Name: "decide group" }).ToList();
            Assert.Contains(decisions, d => d.Attribute("pgaf.failover_id") is { Length: > 0 });
            Assert.Contains(chain, s => s is { Service: "PgAutoFailover.Monitor", Name: "decide group" });

            // The store writes of those decisions, traced by Npgsql inside them.
            var writes = trace.Where(s => s.Scope == "Npgsql" && decisions.Any(d => d.SpanId == s.ParentSpanId)).ToList();
            Assert.NotEmpty(writes);
            output.WriteLine($"{trace.Count} spans in the trace, {decisions.Count} decisions, {writes.Count} store commands in them");

            // Logs carry the trace id: the keeper's line for the promote can be found from the trace.
            var promoteLines = File.ReadLines(node2.Keeper.LogFile).Where(l => l.Contains("FSM transition", StringComparison.Ordinal)
                && l.Contains("\"wait_primary\"", StringComparison.Ordinal)).ToList();
            Assert.Contains(promoteLines, l => l.Contains(promote.TraceId, StringComparison.Ordinal));
        });
    }

    private static string Id(long nodeId) => nodeId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Summary(OtlpReceiver receiver) =>
        string.Join(", ", receiver.Spans.GroupBy(s => $"{s.Service} {s.Name}").Select(g => $"{g.Count()} × {g.Key}"));

    /// <summary>The span, its parent, and so on up to the root; null while one of them has not arrived.</summary>
    private static List<OtlpSpan>? Ancestry(IReadOnlyList<OtlpSpan> trace, OtlpSpan span)
    {
        var chain = new List<OtlpSpan> { span };
        while (chain[^1].ParentSpanId is { } parent)
        {
            if (trace.FirstOrDefault(s => s.SpanId == parent) is not { } next) return null;
            chain.Add(next);
        }
        return chain;
    }
}
