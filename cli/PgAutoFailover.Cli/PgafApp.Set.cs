using System.CommandLine;
using PgAutoFailover.Cli.Formatting;
using PgAutoFailover.Contracts;

// pgaf verbs: set node and formation settings.
namespace PgAutoFailover.Cli;

public static partial class PgafApp
{
    private sealed partial class App
    {
        // ---- set

        private Command SetCandidatePriority()
        {
            var formation = FormationOption();
            var nodeId = NodeIdOption("Id of the node");
            nodeId.Required = true;
            var value = new Argument<int>("priority") { Description = "Candidate priority, 0..100 (0: never promoted)" };
            var command = new Command("candidate-priority", "Set a node's candidate priority") { formation, nodeId, value };
            SetMonitorAction(command, (p, monitor, ct) => monitor.CommandAsync(
                new SetCandidatePriority(FormationName(p.GetValue(formation)), NodeId(p.GetValue(nodeId)), Priority(p.GetValue(value))), ct),
                validate: p => (NodeId(p.GetValue(nodeId)), Priority(p.GetValue(value))));
            return command;
        }

        private Command SetReplicationQuorum()
        {
            var formation = FormationOption();
            var nodeId = NodeIdOption("Id of the node");
            nodeId.Required = true;
            var value = new Argument<string>("true|false") { Description = "Whether the node takes part in synchronous_standby_names" };
            var command = new Command("replication-quorum", "Set a node's replication quorum flag") { formation, nodeId, value };
            SetMonitorAction(command, (p, monitor, ct) => monitor.CommandAsync(
                new SetReplicationQuorum(FormationName(p.GetValue(formation)), NodeId(p.GetValue(nodeId)), Boolean(p.GetValue(value))), ct),
                validate: p => (NodeId(p.GetValue(nodeId)), Boolean(p.GetValue(value))));
            return command;
        }

        private Command SetNodeMetadata()
        {
            var formation = FormationOption();
            var nodeId = NodeIdOption("Id of the node");
            nodeId.Required = true;
            var name = new Option<string?>("--name") { Description = "New node name, unique in the formation" };
            var host = new Option<string?>("--hostname") { Description = "New host name or address that peers and applications use" };
            var port = new Option<int?>("--pgport")
            {
                Description = "New PostgreSQL port, 1..65535 (the monitor only records it: restart PostgreSQL and its keeper on that port yourself; " +
                              "until then the node fails its probes)",
            };
            var json = new Option<bool>("--json") { Description = "Print the node's name, host and port as the monitor now holds them, as JSON" };
            var command = new Command("metadata",
                "Rename or re-address a node on the monitor; give at least one of --name, --hostname, --pgport (the others stay unchanged). " +
                "Change the keeper's settings to match (for a name or host, changing them and sending the keeper SIGHUP does both; " +
                "a new port needs PostgreSQL and its keeper restarted on it, after a switchover on a primary)")
            {
                formation, nodeId, name, host, port, json,
            };
            UpdateNodeMetadata Request(ParseResult p) =>
                Metadata(FormationName(p.GetValue(formation)), NodeId(p.GetValue(nodeId)), p.GetValue(name), p.GetValue(host), p.GetValue(port));
            SetMonitorAction(command, async (p, monitor, ct) =>
            {
                var request = Request(p);
                var message = await monitor.CommandAsync(request, ct);
                if (!p.GetValue(json)) return message;
                var state = await monitor.QueryAsync<GetFormationState, FormationState>(new GetFormationState(request.Formation), ct);
                return JsonText.Of(MetadataView.Json(request, state, message));
            }, validate: Request);
            return command;
        }

        private static UpdateNodeMetadata Metadata(string formation, long nodeId, string? name, string? host, int? port)
        {
            if (name is null && host is null && port is null) throw Usage("give at least one of --name, --hostname, --pgport");
            if (name is not null && string.IsNullOrWhiteSpace(name)) throw Usage("--name must not be empty");
            if (host is not null && string.IsNullOrWhiteSpace(host)) throw Usage("--hostname must not be empty");
            if (port is < 1 or > 65535) throw Usage($"--pgport must be between 1 and 65535, got {port}");
            return new UpdateNodeMetadata(formation, null, nodeId, name?.Trim(), host?.Trim(), port);
        }

        private Command SetNumberSyncStandbys()
        {
            var formation = FormationOption();
            var value = new Argument<int>("number") { Description = "number_sync_standbys (0 or more)" };
            var command = new Command("number-sync-standbys", "Set a formation's number_sync_standbys") { formation, value };
            SetMonitorAction(command, (p, monitor, ct) => monitor.CommandAsync(
                new SetNumberSyncStandbys(FormationName(p.GetValue(formation)), NonNegative(p.GetValue(value), "number-sync-standbys")), ct),
                validate: p => NonNegative(p.GetValue(value), "number-sync-standbys"));
            return command;
        }
    }
}
