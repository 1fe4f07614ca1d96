using PgAutoFailover.Contracts;

namespace PgAutoFailover.Keeper.Core;

/// <summary>
/// docs/states.md#health, failover damping: only in state primary, when PostgreSQL is found down the keeper restarts it
/// and goes on reporting "running" until <c>maxRetries</c> restart attempts in a row have failed or
/// <c>timeout</c> has passed since the first failure (PostgreSQL first seen down, or a failed restart); then it
/// reports the truth. Every other state reports the truth at once, and so does a primary the monitor is moving
/// elsewhere (assigned state not primary: its transition may stop PostgreSQL on purpose, and the keeper's reporter
/// runs beside that transition). Everything resets once PostgreSQL is up.
/// Safe with the lease: a primary reported as running keeps being treated as a possible writer.
/// Timestamps are the keeper's monotonic clock (<see cref="TimeProvider.GetTimestamp"/>).
/// </summary>
public sealed class RestartDamping(TimeProvider clock)
{
    private long? _firstFailureAt;

    /// <summary>Restart attempts that failed since PostgreSQL was last seen up.</summary>
    public int FailedRestarts { get; private set; }

    /// <summary>The last call to <see cref="Reported"/> hid a PostgreSQL that is down.</summary>
    public bool Hiding { get; private set; }

    /// <summary>The pg-is-running flag to report for an observation at <paramref name="now"/>.</summary>
    public bool Reported(NodeState current, NodeState assigned, bool running, long now, TimeSpan timeout, int maxRetries)
    {
        if (running || current != NodeState.Primary || assigned != NodeState.Primary)
        {
            _firstFailureAt = null;
            FailedRestarts = 0;
            Hiding = false;
            return running;
        }
        _firstFailureAt ??= now;
        Hiding = FailedRestarts < maxRetries && clock.GetElapsedTime(_firstFailureAt.Value, now) < timeout;
        return Hiding;
    }

    /// <summary>A restart attempt of PostgreSQL failed at <paramref name="now"/>.</summary>
    public void RestartFailed(long now)
    {
        _firstFailureAt ??= now;
        FailedRestarts++;
    }
}
