using System.CommandLine;
using PgAutoFailover.Cli.Formatting;
using PgAutoFailover.Contracts;

// pgaf verbs: show state, events, settings and uri.
namespace PgAutoFailover.Cli;

public static partial class PgafApp
{
    private sealed partial class App
    {
        // ---- show

        private Command ShowState()
        {
            var formation = FormationOption();
            var group = new Option<int?>("--group") { Description = "Only this group" };
            var json = JsonOption();
            var command = new Command("state", "Show the nodes of a formation: states, LSN, connection") { formation, group, json };
            SetQueryAction(command, async (p, monitor, ct) =>
            {
                var name = FormationName(p.GetValue(formation));
                var state = await monitor.QueryAsync<GetFormationState, FormationState>(new GetFormationState(name), MonitorReadApi.StatePath(name), ct);
                if (p.GetValue(group) is { } only) state = state with { Nodes = state.Nodes.Where(n => n.Node.GroupId == only).ToList() };
                await WriteAsync(p.GetValue(json) ? JsonText.Of(StateView.Json(state)) : StateView.Render(state));
            });
            return command;
        }

        private Command ShowEvents()
        {
            var formation = FormationOption();
            var group = new Option<int?>("--group") { Description = "Only this group" };
            var count = new Option<int>("--count") { Description = "How many of the latest events", DefaultValueFactory = _ => 10 };
            var json = JsonOption();
            var command = new Command("events", "Show the latest events of a formation, oldest first") { formation, group, count, json };
            SetQueryAction(command, async (p, monitor, ct) =>
            {
                var (name, only, last) = (FormationName(p.GetValue(formation)), p.GetValue(group), Positive(p.GetValue(count), "--count"));
                var events = await monitor.QueryAsync<GetEvents, FormationEvents>(
                    new GetEvents(name, only, last), MonitorReadApi.EventsPath(name, only, last), ct);
                await WriteAsync(p.GetValue(json) ? JsonText.Of(EventsView.Json(events)) : EventsView.Render(events));
            }, validate: p => Positive(p.GetValue(count), "--count"));
            return command;
        }

        private Command ShowSettings()
        {
            var formation = FormationOption();
            var json = JsonOption();
            var command = new Command("settings", "Show the replication settings of a formation") { formation, json };
            SetQueryAction(command, async (p, monitor, ct) =>
            {
                var name = FormationName(p.GetValue(formation));
                var settings = await monitor.QueryAsync<GetSettings, FormationSettings>(new GetSettings(name), MonitorReadApi.SettingsPath(name), ct);
                await WriteAsync(p.GetValue(json) ? JsonText.Of(SettingsView.Json(settings)) : SettingsView.Render(settings));
            });
            return command;
        }

        private Command ShowUri()
        {
            var formation = FormationOption();
            var uriService = new Option<string?>("--uri-service")
            {
                Description = $"Base URL of the uri-service (default: env PGAF_URI_SERVICE, else {UriServiceClient.Default})",
            };
            var json = JsonOption();
            var command = new Command("uri", "Show the connection string of a formation (from the uri-service)") { formation, uriService, json };
            command.SetAction((p, ct) => Guard(async () =>
            {
                var name = FormationName(p.GetValue(formation));
                var timeout = Timeout(p);
                var uri = await UriServiceClient.GetUriAsync(UriServiceClient.Resolve(p.GetValue(uriService), environment.Get), name, timeout, ct);
                await WriteAsync(p.GetValue(json) ? JsonText.Of(UriView.Json(name, uri)) : UriView.Render(name, uri));
                return ExitCodes.Ok;
            }, ct));
            return command;
        }
    }
}
