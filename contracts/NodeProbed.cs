namespace PgAutoFailover.Contracts;

/// <summary>Health-checker → monitor: the result of one protocol-level connection attempt to a node's PostgreSQL.</summary>
/// <param name="Node">The node probed.</param>
/// <param name="Succeeded">True when PostgreSQL accepted the connection and answered a query.</param>
/// <param name="Error">Error text of the failed attempt; null on success.</param>
/// <param name="Latency">Time from connect to answer (or to failure).</param>
/// <param name="CheckerId">Identity of the health-checker instance that probed.</param>
/// <param name="ProbedAt">When the probe finished, by the checker's clock.</param>
/// <param name="InRecovery">Whether PostgreSQL answered that it is in recovery; null when the probe failed.</param>
/// <param name="ConsecutiveFailures">Failed probes of this node in a row by this checker, this one included; 0 on success.</param>
/// <param name="FailingSince">When the first of those consecutive failures finished; null on success.</param>
/// <remarks>
/// Publishing: every failed probe is published; a successful one when the verdict or the
/// recovery flag changed, and otherwise as a confirmation every HealthChecker:ConfirmEvery
/// periods (default 5), so a checker that falls silent can be told from a healthy node.
/// </remarks>
public sealed record NodeProbed(
    NodeAddress Node,
    bool Succeeded,
    string? Error,
    TimeSpan Latency,
    string CheckerId,
    DateTimeOffset ProbedAt,
    bool? InRecovery,
    int ConsecutiveFailures = 0,
    DateTimeOffset? FailingSince = null);
