using System.Globalization;
using System.Text;
using PgAutoFailover.Cli.Formatting;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// pgaf watch: the state table and the latest events, refreshed every period until Ctrl-C. On a terminal the
/// screen is cleared and redrawn; otherwise each refresh prints one snapshot. A monitor that stops answering
/// is shown in the frame, and watching goes on.
/// </summary>
public sealed class Watcher(MonitorClient monitor, TextWriter stdout, bool terminal, string formation, int eventCount, TimeSpan period)
{
    private const string ClearScreen = "\u001b[H\u001b[2J";

    public async Task<int> RunAsync(bool once, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var (frame, exitCode) = await FrameAsync(cancellationToken);
                await stdout.WriteAsync(terminal && !once ? ClearScreen + frame : frame);
                await stdout.FlushAsync(cancellationToken);
                if (once) return exitCode;
                await Task.Delay(period, cancellationToken);
                if (!terminal) await stdout.WriteLineAsync();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
    }

    private async Task<(string Frame, int ExitCode)> FrameAsync(CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"pgaf watch: formation {formation} at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z, every {MonitorClient.Seconds(period)} s (Ctrl-C to quit)\n\n");
        try
        {
            var state = await monitor.QueryAsync<GetFormationState, FormationState>(new GetFormationState(formation), cancellationToken);
            text.Append(StateView.Render(state)).Append('\n');
            var events = await monitor.QueryAsync<GetEvents, FormationEvents>(new GetEvents(formation, null, eventCount), cancellationToken);
            text.Append(EventsView.Render(events));
            return (text.ToString(), ExitCodes.Ok);
        }
        catch (CliFailure failure)
        {
            text.Append(CultureInfo.InvariantCulture, $"pgaf: {failure.Message}\n");
            return (text.ToString(), failure.ExitCode);
        }
    }
}
