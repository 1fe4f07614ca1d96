using PgAutoFailover.Monitor.Core.Tests.Harness;
using Xunit.Abstractions;

namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>
/// Long random walks of reports, probes, clock advances, faults and operator commands on groups of 1–5
/// nodes. After every step: at most one writable goal; every goal has a keeper edge; no two nodes accepting
/// writes (ground truth, with keepers that honour the lease); no promotion of a node lacking an acknowledged
/// synchronous write while a reachable node held it when the candidate was elected (the walks inject many
/// crashes: once every holder of a write has failed, no quorum rule can keep it — that is a multiple failure,
/// outside the guarantee); and once faults heal, the group settles (no dead end).
/// </summary>
public class PropertyTests(ITestOutputHelper output)
{
    /// <summary>Walks per mode; SIM_SCALE=10 runs ten times more (a longer local hunt).</summary>
    private static readonly int Seeds = 180 * int.Parse(Environment.GetEnvironmentVariable("SIM_SCALE") ?? "1");
    private const int StepsPerWalk = 3000;

    private void Walk(int seed, bool operators, bool allowDataLoss, int nss = 0, bool takeovers = false)
    {
        var sim = new Simulation(seed, numberSyncStandbys: nss) { StrictDataLoss = false, Takeovers = takeovers };
        for (var i = 0; i < StepsPerWalk && sim.Violations.Count == 0; i++)
            sim.RandomStep(faults: true, operators, allowDataLoss);
        if (sim.Violations.Count == 0)
        {
            var rounds = sim.SettleAfterHealing();
            if (rounds < 0) sim.Violations.Add($"seed {seed}: no quiescence after healing (dead end?)\n{sim.Describe()}");
        }
        if (sim.Violations.Count > 0)
        {
            var trace = sim.Trace;
            output.WriteLine(trace.Length > 20000 ? trace[^20000..] : trace);
            output.WriteLine(sim.Describe());
        }
        Assert.True(sim.Violations.Count == 0, string.Join("\n", sim.Violations));
    }

    public static IEnumerable<object[]> SeedBatches() => Enumerable.Range(0, 6).Select(b => new object[] { b });

    [Theory]
    [MemberData(nameof(SeedBatches))]
    public void Faults_reports_and_probes_keep_every_invariant(int batch)
    {
        for (var seed = batch * Seeds / 6; seed < (batch + 1) * Seeds / 6; seed++) Walk(seed, operators: false, allowDataLoss: false);
    }

    [Theory]
    [MemberData(nameof(SeedBatches))]
    public void Operator_commands_keep_every_invariant(int batch)
    {
        for (var seed = 1000 + batch * Seeds / 6; seed < 1000 + (batch + 1) * Seeds / 6; seed++) Walk(seed, operators: true, allowDataLoss: false);
    }

    /// <summary>
    /// Another monitor instance takes the group over now and then (its holder died): it decides from the durable
    /// events alone, the liveness-only ones lost.
    /// </summary>
    [Theory]
    [MemberData(nameof(SeedBatches))]
    public void Monitor_takeovers_keep_every_invariant(int batch)
    {
        for (var seed = 4000 + batch * Seeds / 6; seed < 4000 + (batch + 1) * Seeds / 6; seed++) Walk(seed, operators: true, allowDataLoss: false, takeovers: true);
    }

    [Theory]
    [MemberData(nameof(SeedBatches))]
    public void Number_sync_standbys_one_keeps_every_invariant(int batch)
    {
        for (var seed = 2000 + batch * Seeds / 6; seed < 2000 + (batch + 1) * Seeds / 6; seed++) Walk(seed, operators: true, allowDataLoss: false, nss: 1);
    }

    /// <summary>Replays one walk with its trace: SIM_SEED=60 SIM_MODE=ops|faults|nss dotnet test --filter Replay.</summary>
    [FactWhenEnvironment("SIM_SEED")]
    public void Replay_one_seed_from_environment()
    {
        var s = Environment.GetEnvironmentVariable("SIM_SEED")!;
        var mode = Environment.GetEnvironmentVariable("SIM_MODE") ?? "ops";
        Walk(int.Parse(s), operators: mode != "faults", allowDataLoss: mode == "loss", nss: mode == "nss" ? 1 : 0);
    }

    [Fact]
    public void Allow_data_loss_never_breaks_single_writer()
    {
        for (var seed = 3000; seed < 3000 + Seeds / 6; seed++) Walk(seed, operators: true, allowDataLoss: true);
    }
}

/// <summary>A fact that runs only when <c>variable</c> is set, and is reported as skipped otherwise (never as a pass that checked nothing).</summary>
public sealed class FactWhenEnvironmentAttribute : FactAttribute
{
    public FactWhenEnvironmentAttribute(string variable)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable))) Skip = $"set {variable} to run it";
    }
}
