using System.Diagnostics;
using MassTransit;
using PgAutoFailover.Contracts;
using static PgAutoFailover.Contracts.NodeState;

namespace PgAutoFailover.Bench;

/// <summary>
/// The keepers and the health-checker of the monitor benchmark, played by this process on one bus connection: groups of a
/// primary and a standby, one formation each, bootstrapped to primary + secondary, then reporting and probed as the real
/// ones pace themselves.
/// </summary>
public static class SimulatedKeepers
{
    public sealed class Keeper(NodeAddress node)
    {
        public NodeAddress Node { get; } = node;
        public NodeState State { get; set; } = Init;
        public long Sequence { get; set; }
    }

    /// <summary>Registers the nodes of each group and plays their keepers until primary + secondary.</summary>
    public static async Task<List<Keeper>> BootstrapAsync(IBus bus, int groups)
    {
        var created = bus.CreateRequestClient<CreateFormation>(RequestTimeout.After(s: 60));
        var register = bus.CreateRequestClient<RegisterNode>(RequestTimeout.After(s: 60));
        var keepers = new List<Keeper>();
        const int basePort = 30000;
        await Parallel.ForEachAsync(Enumerable.Range(0, groups), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (g, ct) =>
        {
            var formation = $"bench{g:00000}";
            await created.GetResponse<OperatorCommandSucceeded, OperatorCommandRefused>(new CreateFormation(formation, "postgres", 0), ct);
            var pair = new List<Keeper>();
            foreach (var i in new[] { 0, 1 })
            {
                var answer = await register.GetResponse<NodeRegistered>(new RegisterNode(formation, 0, $"n{i}", "127.0.0.1",
                    basePort + g * 2 + i, "postgres", null, 50, true, null, Init), ct);
                pair.Add(new Keeper(answer.Message.Node));
            }
            for (var round = 0; round < 20 && !(pair[0].State == Primary && pair[1].State == Secondary); round++)
            {
                foreach (var keeper in pair) keeper.State = (await ReportAsync(bus, keeper)).GoalState;
            }
            lock (keepers) keepers.AddRange(pair);
        });
        return keepers;
    }

    /// <summary>
    /// One simulated keeper, as the real one paces itself: a report every period, or every third of its lease while it
    /// holds one (a primary renews its lease at L/3); the health-checker's probe of the node once a period.
    /// </summary>
    public static async Task RunAsync(IBus bus, Keeper keeper, TimeSpan period, Window window, CancellationToken stop)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * period.TotalMilliseconds), CancellationToken.None);
        var nextProbe = Stopwatch.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            var wait = period;
            try
            {
                var goal = await ReportAsync(bus, keeper);
                window.Report(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                keeper.State = goal.GoalState;
                if (goal.Lease is { } lease && lease.Duration / 3 < wait) wait = lease.Duration / 3;
                if (Stopwatch.GetTimestamp() >= nextProbe)
                {
                    nextProbe = Stopwatch.GetTimestamp() + (long)(period.TotalSeconds * Stopwatch.Frequency);
                    await bus.Publish(new NodeProbed(keeper.Node, true, null, TimeSpan.FromMilliseconds(1), "bench", DateTimeOffset.UtcNow, keeper.State != Primary));
                    window.Probe();
                }
            }
            catch (Exception e) when (e is RequestTimeoutException or RequestFaultException)
            {
                window.Error();
            }
            var left = wait - Stopwatch.GetElapsedTime(started);
            try { if (left > TimeSpan.Zero) await Task.Delay(left, stop); } catch (OperationCanceledException) { break; }
        }
    }

    private static async Task<NodeGoal> ReportAsync(IBus bus, Keeper keeper)
    {
        var client = bus.CreateRequestClient<ReportNodeState>(RequestTimeout.After(s: 30));
        var writable = keeper.State is Primary or WaitPrimary or NodeState.Single;
        var response = await client.GetResponse<NodeGoal>(new ReportNodeState(keeper.Node.Formation, 0, keeper.Node.NodeId,
            keeper.State, true, 1, 0x3000000, writable ? "quorum" : "", null, ++keeper.Sequence, DateTimeOffset.UtcNow));
        return response.Message;
    }

    /// <summary>What the keepers saw while the measurement window was open (the warm-up is not counted).</summary>
    public sealed class Window
    {
        private volatile bool _open;
        private int _probes;
        private int _errors;

        public List<double> Latencies { get; } = [];
        public int Probes => _probes;
        public int Errors => _errors;
        public void Open() => _open = true;
        public void Close() => _open = false;

        public void Report(double milliseconds)
        {
            if (_open) lock (Latencies) Latencies.Add(milliseconds);
        }

        public void Probe() { if (_open) Interlocked.Increment(ref _probes); }
        public void Error() { if (_open) Interlocked.Increment(ref _errors); }
    }
}
