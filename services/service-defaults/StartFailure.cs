using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// A service that found it cannot work (its broker or store refused it): the reason and exit code
/// (<see cref="Contracts.ServiceExitCodes"/>), kept for the host's exit path, and the application stopped, so that it
/// ends once with one line (docs/operations.md#when-a-service-cannot-start) instead of retrying what no retry mends.
/// </summary>
public sealed partial class StartFailure(IHostApplicationLifetime lifetime, ILogger<StartFailure> logger)
{
    private (int ExitCode, string Reason)? _failure;
    private readonly Lock _gate = new();

    public int? ExitCode { get { lock (_gate) return _failure?.ExitCode; } }
    public string? Reason { get { lock (_gate) return _failure?.Reason; } }

    /// <summary>The first call wins; later ones (every endpoint reports the same refusal) change nothing.</summary>
    public void Stop(int exitCode, string reason)
    {
        lock (_gate)
        {
            if (_failure is not null) return;
            _failure = (exitCode, reason);
        }
        LogStopping(logger, reason, exitCode);
        lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Cannot work: {Reason}; stopping (exit {ExitCode})")]
    private static partial void LogStopping(ILogger logger, string reason, int exitCode);
}
