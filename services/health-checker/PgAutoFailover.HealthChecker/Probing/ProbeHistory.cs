using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>
/// One node's recent probes and the publishing rule of <see cref="HealthCheckerOptions"/>: every
/// failure (with the count of consecutive failures and when they began), a success when the
/// verdict or the recovery flag changed, else a confirmation every <c>confirmEvery</c> probes.
/// Pure: no clock, no I/O.
/// </summary>
public sealed class ProbeHistory(int confirmEvery)
{
    private bool? _lastPublishedSucceeded;
    private bool? _lastPublishedInRecovery;
    private int _sinceLastPublish;
    private int _consecutiveFailures;
    private DateTimeOffset? _failingSince;

    /// <summary>The message to publish for this probe result, or null when nothing is due.</summary>
    public NodeProbed? Next(NodeProbed result)
    {
        if (!result.Succeeded)
        {
            _consecutiveFailures++;
            _failingSince ??= result.ProbedAt;
            return Published(result with { ConsecutiveFailures = _consecutiveFailures, FailingSince = _failingSince });
        }

        _consecutiveFailures = 0;
        _failingSince = null;
        _sinceLastPublish++;
        var changed = _lastPublishedSucceeded != true || _lastPublishedInRecovery != result.InRecovery;
        if (!changed && _sinceLastPublish < Math.Max(1, confirmEvery)) return null;
        return Published(result with { ConsecutiveFailures = 0, FailingSince = null });
    }

    /// <summary>The publish did not go through: the next result is published whatever it is.</summary>
    public void PublishFailed() => _lastPublishedSucceeded = null;

    private NodeProbed Published(NodeProbed message)
    {
        _lastPublishedSucceeded = message.Succeeded;
        _lastPublishedInRecovery = message.InRecovery;
        _sinceLastPublish = 0;
        return message;
    }
}
