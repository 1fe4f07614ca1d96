using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace PgAutoFailover.Client;

/// <summary>
/// Follows the uri-service's watch stream for good: every answer goes to the callback; when the stream breaks or the
/// service cannot be reached, it watches again after a delay that doubles up to a maximum, logging one line when the
/// service goes away and one when it is back. Used by <see cref="PgAutoFailoverDataSource"/> and by relays that
/// reconfigure a proxy (examples/PgBouncerRelay).
/// </summary>
public sealed partial class UriServiceFollower(UriServiceClient client, TimeSpan firstDelay, TimeSpan maxDelay, TimeProvider? time = null, ILogger? logger = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger _log = logger ?? NullLogger.Instance;

    /// <summary>Runs until <paramref name="stop"/>; an exception thrown by <paramref name="onAnswer"/> ends it.</summary>
    public async Task RunAsync(Func<UriServiceAnswer, CancellationToken, Task> onAnswer, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(onAnswer);
        var delay = firstDelay;
        var down = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await foreach (var answer in client.WatchAsync(stop))
                {
                    if (down) Log.Back(_log);
                    down = false;
                    delay = firstDelay;
                    await onAnswer(answer, stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (Exception e) when (IsUnreachable(e))
            {
                if (!down) Log.Down(_log, OneLine(e));
                down = true;
            }
            try { await Task.Delay(delay, _time, stop); }
            catch (OperationCanceledException) { return; }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, maxDelay.Ticks));
        }
    }

    /// <summary>The failures of reaching the uri-service or reading its answers, as opposed to defects.</summary>
    public static bool IsUnreachable(Exception e) =>
        e is HttpRequestException or IOException or OperationCanceledException or System.Text.Json.JsonException or InvalidDataException;

    /// <summary>An exception and its cause on one line.</summary>
    public static string OneLine(Exception e) => (e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message).ReplaceLineEndings(" ");

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Warning, "The uri-service cannot be reached ({Error}); keeping the last answer until it is back")]
        public static partial void Down(ILogger logger, string error);

        [LoggerMessage(11, LogLevel.Information, "The uri-service is back")]
        public static partial void Back(ILogger logger);
    }
}
