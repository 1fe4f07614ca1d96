using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker;

/// <summary>Bound from the "HealthChecker" section.</summary>
public sealed class HealthCheckerOptions
{
    public const string Section = "HealthChecker";

    /// <summary>Time between two probes of one node. Default 1 s: with the monitor's failure count this detects a dead primary in about 3 s (design §6).</summary>
    public TimeSpan ProbePeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A probe that has not connected and answered by then has failed. Default 800 ms, under the period so probes never pile up.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>Identity carried in every NodeProbed, so the monitor can tell checkers apart. Default: host name and process id.</summary>
    public string CheckerId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>Role the probe logs in as (the health-check role the keeper creates).</summary>
    public string Username { get; set; } = "pgautofailover_monitor";

    /// <summary>Password of that role; empty when authentication is by trust or a password file.</summary>
    public string Password { get; set; } = "";

    /// <summary>Database the probe connects to.</summary>
    public string Database { get; set; } = "postgres";

    /// <summary>Nodes probed from start-up, before any topology is known (also useful without a monitor).</summary>
    public List<NodeAddress> StaticNodes { get; set; } = [];
}
