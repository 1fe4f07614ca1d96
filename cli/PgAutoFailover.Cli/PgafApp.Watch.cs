using System.CommandLine;
using System.Globalization;

// pgaf verbs: watch.
namespace PgAutoFailover.Cli;

public static partial class PgafApp
{
    private sealed partial class App
    {
        // ---- watch

        private Command Watch()
        {
            var formation = FormationOption();
            var count = new Option<int>("--count") { Description = "How many of the latest events to show", DefaultValueFactory = _ => 10 };
            var interval = new Option<double>("--interval") { Description = "Seconds between two refreshes", DefaultValueFactory = _ => 1 };
            var once = new Option<bool>("--once") { Description = "Print one snapshot and exit" };
            var command = new Command("watch", "A refreshing view of a formation's state and events, until Ctrl-C") { formation, count, interval, once };
            command.SetAction((p, ct) => Guard(async () =>
            {
                var name = FormationName(p.GetValue(formation));
                var events = Positive(p.GetValue(count), "--count");
                var period = p.GetValue(interval);
                if (!(period > 0) || period > 3600) throw Usage($"--interval must be more than 0 and at most 3600 seconds, got {period.ToString(CultureInfo.InvariantCulture)}");
                var timeout = Timeout(p);
                await using var monitor = await ConnectAsync(p, ct);
                var watcher = new Watcher(monitor, stdout, environment.StdoutIsTerminal, name, events, TimeSpan.FromSeconds(period));
                return await watcher.RunAsync(p.GetValue(once), ct);
            }, ct));
            return command;
        }
    }
}
