using System.Globalization;
using PgAutoFailover.Cli.Formatting;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// After an accepted orchestration (perform …, enable/disable maintenance) with --wait: polls the formation's
/// state, prints one line per node whose states changed (pg_autoctl's live table: Time | Name | Node |
/// Host:Port | Current State | Assigned State) until the expected state is reached or the wait expires.
/// The monitor carries on regardless of the wait.
/// </summary>
public sealed class Waiter(MonitorClient monitor, TextWriter stdout, TimeProvider clock)
{
    public static readonly TimeSpan PollPeriod = TimeSpan.FromMilliseconds(500);

    public static readonly IReadOnlyList<TextColumn> Columns =
    [
        new("Time", MinWidth: 8),
        new("Name", MinWidth: 10),
        new("Node", MinWidth: 5),
        new("Host:Port", MinWidth: 21),
        new("Current State", MinWidth: StateNames.Width),
        new("Assigned State", MinWidth: StateNames.Width),
    ];

    /// <summary>Waits until <paramref name="done"/> holds for the formation's state; false when <paramref name="wait"/> expired first.</summary>
    public async Task<bool> WaitAsync(string formation, Func<FormationState, bool> done, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + wait;
        var header = TextTable.Render(Columns, []);
        await stdout.WriteAsync(header);
        var seen = new Dictionary<long, (NodeState Reported, NodeState Goal)>();
        while (true)
        {
            var state = await monitor.QueryAsync<GetFormationState, FormationState>(new GetFormationState(formation), cancellationToken);
            foreach (var node in StateView.Ordered(state))
            {
                var now = (node.ReportedState, node.GoalState);
                if (seen.TryGetValue(node.Node.NodeId, out var before) && before == now) continue;
                seen[node.Node.NodeId] = now;
                await stdout.WriteAsync(Line(clock.GetLocalNow(), node));
            }
            await stdout.FlushAsync(cancellationToken);
            if (done(state)) return true;
            if (clock.GetUtcNow() >= deadline) return false;
            await Task.Delay(PollPeriod, clock, cancellationToken);
        }
    }

    public static string Line(DateTimeOffset at, NodeSnapshot node)
    {
        var cells = new[]
        {
            at.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
            node.Node.NodeName,
            StateView.Row(node)[1],
            StateView.HostPort(node.Node.Host, node.Node.Port),
            StateNames.Of(node.ReportedState),
            StateNames.Of(node.GoalState),
        };
        // The header's widths, or wider for a long cell (a streamed table cannot re-align earlier rows).
        return string.Join(" | ", cells.Select((c, i) => c.PadLeft(Math.Max(Columns[i].MinWidth, Columns[i].Header.Length)))) + "\n";
    }

    // ---- what "done" means for each orchestration (pure, unit-tested)

    /// <summary>States in which a node accepts writes (docs/states.md#node-states).</summary>
    public static bool IsWritable(NodeState state) =>
        state is NodeState.Single or NodeState.WaitPrimary or NodeState.Primary or NodeState.JoinPrimary or NodeState.ApplySettings;

    private static bool Converged(NodeSnapshot node) => node.ReportedState == node.GoalState;

    /// <summary>The node of the group that currently is the converged writer, if any.</summary>
    public static long? Writer(FormationState state, int group) =>
        state.Nodes.Where(n => n.Node.GroupId == group && IsWritable(n.ReportedState) && Converged(n)).Select(n => (long?)n.Node.NodeId).FirstOrDefault();

    /// <summary>Failover and switchover: another node than the one before is the converged writer of the group.</summary>
    public static Func<FormationState, bool> NewPrimary(int group, long? primaryBefore) =>
        state => Writer(state, group) is { } now && now != primaryBefore;

    /// <summary>Promotion: the named node is the converged writer.</summary>
    public static Func<FormationState, bool> Promoted(long? nodeId, string? nodeName) =>
        state => state.Nodes.Any(n => Matches(n, nodeId, nodeName) && IsWritable(n.ReportedState) && Converged(n));

    /// <summary>enable maintenance: the node reports maintenance and is assigned it.</summary>
    public static Func<FormationState, bool> InMaintenance(long nodeId) =>
        state => state.Nodes.Any(n => n.Node.NodeId == nodeId && n.ReportedState == NodeState.Maintenance && Converged(n));

    /// <summary>disable maintenance: the node is back as a converged secondary or writer.</summary>
    public static Func<FormationState, bool> BackFromMaintenance(long nodeId) =>
        state => state.Nodes.Any(n => n.Node.NodeId == nodeId && Converged(n)
            && (n.ReportedState == NodeState.Secondary || IsWritable(n.ReportedState)));

    private static bool Matches(NodeSnapshot node, long? nodeId, string? nodeName) =>
        nodeId is { } id ? node.Node.NodeId == id : string.Equals(node.Node.NodeName, nodeName, StringComparison.Ordinal);
}
