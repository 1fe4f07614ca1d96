using Npgsql;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker;

/// <summary>
/// Bound from the "HealthChecker" section. Every timeout has its default beside it.
/// <para>
/// Publishing decision. The monitor's two-signal health rule (probe failures AND keeper silence,
/// about 3 s with a 1 s period) must count consecutive failures and notice them at once, while
/// 1,000 healthy nodes should not cost 1,000 messages a second. So: every failed probe is
/// published, carrying <see cref="NodeProbed.ConsecutiveFailures"/> and
/// <see cref="NodeProbed.FailingSince"/> (the monitor need not count, nor fear a lost message);
/// a successful probe is published when the verdict or the recovery flag changes, and otherwise
/// as a confirmation every <see cref="ConfirmEvery"/> periods, so the monitor can tell a silent
/// checker (no confirmation for ConfirmEvery periods) from a healthy node. ConfirmEvery = 1
/// publishes every result.
/// </para>
/// </summary>
public sealed class HealthCheckerOptions : ServiceDefaults.IOptionsWithProblems
{
    public const string Section = "HealthChecker";

    /// <summary>Time between the starts of two probes of one node. Default 1 s: with the monitor's failure count this detects a dead primary in about 3 s (docs/failover-timing.md).</summary>
    public TimeSpan ProbePeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A node whose last probe failed is probed again this long after that probe started, instead of a whole period
    /// later, so the monitor's three consecutive failures are counted about 0.5 s after the first one (a dead primary
    /// is seen 1-1.5 s after it died, not 3). Default 250 ms; a period shorter than this wins. Costs a few probes a
    /// second per failing node only.
    /// </summary>
    public TimeSpan FailingProbePeriod { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>One connection attempt that has not connected and answered by then has failed. Default 800 ms, under the period so probes never pile up.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>
    /// Further attempts after a failed one within the same probe, made only while the attempt
    /// still fits in the period (elapsed + <see cref="RetryDelay"/> + <see cref="ProbeTimeout"/> ≤ period):
    /// a refused connection is retried, a timed-out one is not. Default 1.
    /// </summary>
    public int Retries { get; set; } = 1;

    /// <summary>Pause before a retry. Default 100 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A successful probe with nothing new is published once every this many periods (see the class remarks). Default 5; 1 publishes every result.</summary>
    public int ConfirmEvery { get; set; } = 5;

    /// <summary>Probes in flight at once, over all nodes. Default 128 (1,000 nodes at 1 s need a handful at a time on a LAN).</summary>
    public int MaxConcurrentProbes { get; set; } = 128;

    /// <summary>How often overruns (probes that started late or could not finish within their period) are summed up in the log. Default 10 s.</summary>
    public TimeSpan OverrunReportPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Identity carried in every NodeProbed, so the monitor can tell checkers apart; also names this instance's topology queue. Default: host name and process id.</summary>
    public string CheckerId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>Role the probe logs in as (the health-check role the keeper creates).</summary>
    public string Username { get; set; } = "pgautofailover_monitor";

    /// <summary>Password of that role; empty when authentication is by trust or a password file.</summary>
    public string Password { get; set; } = "";

    /// <summary>Database the probe connects to.</summary>
    public string Database { get; set; } = "postgres";

    /// <summary>
    /// TLS of the probe (docs/operations.md#tls). Default Require: keepers serve TLS by default and refuse clients without it.
    /// Not Prefer, which retries a refused login without TLS and so reports pg_hba's "no encryption" instead of the real cause
    /// (a wrong password); Prefer or Disable only for nodes run with --no-ssl; VerifyFull with "Root Certificate=..." in
    /// <see cref="ConnectionParameters"/> when the nodes have certificates from a CA.
    /// </summary>
    public SslMode SslMode { get; set; } = SslMode.Require;

    /// <summary>More Npgsql connection-string parameters for the probe, e.g. "Root Certificate=/etc/pgaf/ca.crt". Default none.</summary>
    public string ConnectionParameters { get; set; } = "";

    /// <summary>Nodes probed from start-up, before any topology is known (also useful without a monitor).</summary>
    public List<NodeAddress> StaticNodes { get; set; } = [];

    /// <summary>How long one GetTopology request waits for the monitor. Default 2 s; start-up never waits for it.</summary>
    public TimeSpan TopologyRequestTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>First delay before asking the monitor again when it did not answer; doubles up to <see cref="TopologyRetryMaxDelay"/>. Default 1 s.</summary>
    public TimeSpan TopologyRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between two unanswered GetTopology requests. Default 30 s.</summary>
    public TimeSpan TopologyRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After a first answer, ask again this often in case a FormationTopologyChanged was missed (the topology queue is temporary). Default 60 s; zero turns it off.</summary>
    public TimeSpan TopologyRefreshPeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>What is wrong with these settings (docs/operations.md#settings), one sentence each.</summary>
    public IEnumerable<string> Problems()
    {
        string?[] rules =
        [
            SettingRules.Duration("HealthChecker:ProbePeriod", ProbePeriod),
            SettingRules.Duration("HealthChecker:FailingProbePeriod", FailingProbePeriod),
            SettingRules.Duration("HealthChecker:ProbeTimeout", ProbeTimeout),
            SettingRules.Between("HealthChecker:Retries", Retries, 0, 100),
            SettingRules.Duration("HealthChecker:RetryDelay", RetryDelay, zeroAllowed: true),
            SettingRules.Between("HealthChecker:ConfirmEvery", ConfirmEvery, 1, 1_000_000),
            SettingRules.Between("HealthChecker:MaxConcurrentProbes", MaxConcurrentProbes, 1, 100_000),
            SettingRules.Duration("HealthChecker:OverrunReportPeriod", OverrunReportPeriod),
            string.IsNullOrWhiteSpace(CheckerId) ? "HealthChecker:CheckerId is empty" : null,
            string.IsNullOrWhiteSpace(Username) ? "HealthChecker:Username is empty" : null,
            SettingRules.Duration("HealthChecker:TopologyRequestTimeout", TopologyRequestTimeout),
            SettingRules.Duration("HealthChecker:TopologyRetryDelay", TopologyRetryDelay),
            SettingRules.Duration("HealthChecker:TopologyRetryMaxDelay", TopologyRetryMaxDelay),
            SettingRules.Duration("HealthChecker:TopologyRefreshPeriod", TopologyRefreshPeriod),
        ];
        return rules.OfType<string>();
    }
}
