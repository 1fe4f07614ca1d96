namespace PgAutoFailover.Contracts;

/// <summary>
/// How the services and the keeper end when they cannot work (docs/operations.md#when-a-service-cannot-start), in
/// sysexits.h's numbers, so that a supervisor tells a setting to fix from a crash to restart: systemd units list
/// <see cref="DoNotRestart"/> in RestartPreventExitStatus, and the container entrypoint (pgaf-run) parks instead of
/// exiting into a restart loop.
/// </summary>
public static class ServiceExitCodes
{
    /// <summary>Anything else that stopped it: worth a restart.</summary>
    public const int Failure = 1;
    /// <summary>EX_NOPERM: the broker or the store refused the user name or password, or the user's permissions.</summary>
    public const int Refused = 77;
    /// <summary>EX_CONFIG: a setting cannot work (a bad value, a virtual host or database that does not exist).</summary>
    public const int BadSettings = 78;
    /// <summary>The keeper's node was dropped from its formation (pg_auto_failover's convention).</summary>
    public const int NodeDropped = 121;

    /// <summary>Exit codes after which starting again can only fail the same way.</summary>
    public static readonly IReadOnlyList<int> DoNotRestart = [Refused, BadSettings, NodeDropped];
}
