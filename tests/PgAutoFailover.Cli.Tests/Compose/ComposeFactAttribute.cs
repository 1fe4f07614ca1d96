namespace PgAutoFailover.Cli.Tests.Compose;

/// <summary>
/// A test that needs a Docker engine it may start itself: skipped, with the reason, only where none can start
/// (not root, so neither apt-get nor dockerd can run; or test.sh tried `scripts/docker/engine.sh start` and it failed,
/// which it reports in PGAF_DOCKER_UNAVAILABLE).
/// </summary>
public sealed class ComposeFactAttribute : FactAttribute
{
    public ComposeFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("PGAF_DOCKER_UNAVAILABLE") is { Length: > 0 } reason)
            Skip = $"no Docker engine could start here: {reason}";
        else if (!PgAutoFailover.Testing.ProcessRunner.IsRoot)
            Skip = "no Docker engine can start here: starting dockerd (and installing docker.io) needs root";
    }
}
