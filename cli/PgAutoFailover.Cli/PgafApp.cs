using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using PgAutoFailover.Cli.Formatting;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// pgaf's entry point, callable in-process (tests): parses the command line, talks to the monitor over
/// RabbitMQ, writes tables or JSON to <c>stdout</c> and at most one error line to <c>stderr</c>.
/// </summary>
public static class PgafApp
{
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr) =>
        RunAsync(args, stdout, stderr, new PgafEnvironment(), CancellationToken.None);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, PgafEnvironment environment, CancellationToken cancellationToken)
    {
        var app = new App(stdout, stderr, environment);
        var root = app.Build();
        var parsed = root.Parse(args);
        if ((parsed.Errors.Count == 0 || parsed.Action is ParseErrorAction or null) && UsageErrors.Describe(parsed) is { } error)
        {
            var verb = parsed.CommandResult.Command;
            var path = verb == root ? "pgaf" : "pgaf " + CommandPath(parsed);
            await stderr.WriteLineAsync($"pgaf: {error} (see: {path} --help)");
            return ExitCodes.BadArguments;
        }
        var configuration = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        return await parsed.InvokeAsync(configuration, cancellationToken);
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (result.Command is RootCommand) break;
            names.Insert(0, result.Command.Name);
        }
        return string.Join(' ', names);
    }

    private sealed class App(TextWriter stdout, TextWriter stderr, PgafEnvironment environment)
    {
        private readonly Option<string?> _rabbitmq = new("--rabbitmq")
        {
            Description = $"RabbitMQ URL of the deployment (default: env RABBITMQ_URL, else {BrokerAddress.Default})",
            Recursive = true,
        };

        private readonly Option<string?> _monitor = new("--monitor")
        {
            Description = $"HTTP address of the monitor, for read-only commands (default: env PGAF_MONITOR, else {MonitorReader.Default}); " +
                          "believed only when that monitor is on the same broker, else the question goes over RabbitMQ",
            Recursive = true,
        };

        private readonly Option<double> _timeout = new("--timeout")
        {
            Description = "Seconds to wait for the broker and for each answer of the monitor",
            DefaultValueFactory = _ => 10,
            Recursive = true,
        };

        public RootCommand Build()
        {
            var root = new RootCommand("pgaf: the operator's command line for PgAutoFailover (automated PostgreSQL failover).")
            {
                _rabbitmq,
                _monitor,
                _timeout,
            };

            root.Subcommands.Add(new Command("create", "Create an object on the monitor") { CreateFormation() });
            root.Subcommands.Add(new Command("drop", "Drop an object from the monitor") { DropFormation(), DropNode() });
            root.Subcommands.Add(new Command("show", "Show the monitor's view") { ShowState(), ShowEvents(), ShowUri(), ShowSettings() });
            root.Subcommands.Add(new Command("perform", "Ask the monitor to carry out an orchestration")
            {
                PerformFailover("failover", "Fail over the group's primary to the best candidate", (f, g, loss) => new PerformFailover(f, g, loss), offerAllowDataLoss: true),
                PerformFailover("switchover", "Planned switchover of the group's primary", (f, g, _) => new PerformSwitchover(f, g), offerAllowDataLoss: false),
                PerformPromotion(),
            });
            root.Subcommands.Add(new Command("enable", "Enable a feature") { Maintenance(enable: true), AutomaticFailover(enable: true) });
            root.Subcommands.Add(new Command("disable", "Disable a feature") { Maintenance(enable: false), AutomaticFailover(enable: false) });
            root.Subcommands.Add(new Command("set", "Change a setting")
            {
                new Command("node", "Change a node's setting") { SetCandidatePriority(), SetReplicationQuorum(), SetNodeMetadata() },
                new Command("formation", "Change a formation's setting") { SetNumberSyncStandbys() },
            });
            root.Subcommands.Add(Watch());
            return root;
        }

        // ---- options shared by several verbs

        private static Option<string> FormationOption() => new("--formation")
        {
            Description = "Formation name",
            DefaultValueFactory = _ => "default",
        };

        private static Option<int> GroupOption() => new("--group")
        {
            Description = "Group id",
            DefaultValueFactory = _ => 0,
        };

        private static Option<bool> JsonOption() => new("--json") { Description = "Print JSON instead of a table" };

        private static Option<long?> NodeIdOption(string description) => new("--node-id") { Description = description };

        // ---- create / drop

        private Command CreateFormation()
        {
            var formation = new Option<string>("--formation") { Description = "Name of the new formation", Required = true };
            var dbname = new Option<string>("--dbname") { Description = "Application database name", DefaultValueFactory = _ => "postgres" };
            var sync = new Option<int>("--number-sync-standbys") { Description = "Initial number_sync_standbys (0 or more)", DefaultValueFactory = _ => 0 };
            var command = new Command("formation", "Create a formation") { formation, dbname, sync };
            SetMonitorAction(command, async (p, monitor, ct) =>
            {
                var name = FormationName(p.GetValue(formation));
                var database = p.GetValue(dbname);
                if (string.IsNullOrWhiteSpace(database)) throw Usage("--dbname must not be empty");
                var standbys = NonNegative(p.GetValue(sync), "--number-sync-standbys");
                return await monitor.CommandAsync(new CreateFormation(name, database.Trim(), standbys), ct);
            });
            return command;
        }

        private Command DropFormation()
        {
            var formation = new Option<string>("--formation") { Description = "Formation to drop (it must have no node left)", Required = true };
            var command = new Command("formation", "Drop an empty formation") { formation };
            SetMonitorAction(command, (p, monitor, ct) => monitor.CommandAsync(new DropFormation(FormationName(p.GetValue(formation))), ct));
            return command;
        }

        private Command DropNode()
        {
            var formation = FormationOption();
            var nodeId = NodeIdOption("Id of the node to remove");
            var name = new Option<string?>("--name") { Description = "Name of the node to remove (instead of --node-id)" };
            var force = new Option<bool>("--force") { Description = "Remove the node at once, even if its keeper cannot confirm (node lost)" };
            var command = new Command("node", "Remove a node from its group") { formation, nodeId, name, force };
            SetMonitorAction(command, (p, monitor, ct) =>
            {
                var (id, nodeName) = NodeIdOrName(p.GetValue(nodeId), p.GetValue(name));
                return monitor.CommandAsync(new DropNode(FormationName(p.GetValue(formation)), id, nodeName, p.GetValue(force)), ct);
            });
            return command;
        }

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

        // ---- perform

        private Command PerformFailover(string verb, string description, Func<string, int, bool, object> message, bool offerAllowDataLoss)
        {
            var formation = FormationOption();
            var group = GroupOption();
            var wait = WaitOption("another node is the group's primary");
            var command = new Command(verb, description) { formation, group, wait };
            var allowDataLoss = new Option<bool>("--allow-data-loss")
            {
                Description = "When an election waits for standbys that may hold acknowledged writes, elect the best candidate that reported anyway: writes it lacks are lost",
            };
            if (offerAllowDataLoss) command.Options.Add(allowDataLoss);
            SetMonitorAction(command, (p, monitor, ct) =>
            {
                var request = message(FormationName(p.GetValue(formation)), NonNegative(p.GetValue(group), "--group"), offerAllowDataLoss && p.GetValue(allowDataLoss));
                return request switch
                {
                    PerformFailover failover => monitor.CommandAsync(failover, ct),
                    PerformSwitchover switchover => monitor.CommandAsync(switchover, ct),
                    _ => throw new InvalidOperationException(request.GetType().Name),
                };
            }, validate: p => (FormationName(p.GetValue(formation)), NonNegative(p.GetValue(group), "--group")), waitOption: wait,
            plan: async (p, monitor, ct) =>
            {
                var name = FormationName(p.GetValue(formation));
                var groupId = p.GetValue(group);
                var before = await monitor.QueryAsync<GetFormationState, FormationState>(new GetFormationState(name), ct);
                return new WaitPlan(name, Waiter.NewPrimary(groupId, Waiter.Writer(before, groupId)), $"a new primary in group {groupId}");
            });
            return command;
        }

        private Command PerformPromotion()
        {
            var formation = FormationOption();
            var nodeId = NodeIdOption("Id of the node to promote");
            var name = new Option<string?>("--name") { Description = "Name of the node to promote (instead of --node-id)" };
            var wait = WaitOption("the node is the primary");
            var command = new Command("promotion", "Make the given node the primary of its group") { formation, nodeId, name, wait };
            SetMonitorAction(command, (p, monitor, ct) =>
            {
                var (id, nodeName) = NodeIdOrName(p.GetValue(nodeId), p.GetValue(name));
                return monitor.CommandAsync(new PerformPromotion(FormationName(p.GetValue(formation)), id, nodeName), ct);
            }, validate: p => NodeIdOrName(p.GetValue(nodeId), p.GetValue(name)), waitOption: wait,
            plan: (p, _, _) =>
            {
                var (id, nodeName) = NodeIdOrName(p.GetValue(nodeId), p.GetValue(name));
                return Task.FromResult(new WaitPlan(FormationName(p.GetValue(formation)), Waiter.Promoted(id, nodeName),
                    $"node {(id is { } i ? i.ToString(CultureInfo.InvariantCulture) : nodeName)} as primary"));
            });
            return command;
        }

        // ---- enable / disable maintenance

        private Command Maintenance(bool enable)
        {
            var formation = FormationOption();
            var nodeId = NodeIdOption(enable ? "Id of the node to take out of automation" : "Id of the node to return to automation");
            nodeId.Required = true;
            var command = new Command("maintenance", enable ? "Take a node out of automation (maintenance)" : "Return a node from maintenance to automation")
            {
                formation, nodeId,
            };
            var wait = WaitOption(enable ? "the node is in maintenance" : "the node is back as a secondary or primary");
            command.Options.Add(wait);
            Option<bool>? allowFailover = null;
            if (enable)
            {
                allowFailover = new Option<bool>("--allow-failover") { Description = "On the primary: allow a failover so that it can go to maintenance" };
                command.Options.Add(allowFailover);
            }
            SetMonitorAction(command, (p, monitor, ct) =>
            {
                var id = NodeId(p.GetValue(nodeId));
                var name = FormationName(p.GetValue(formation));
                return enable
                    ? monitor.CommandAsync(new EnableMaintenance(name, id, p.GetValue(allowFailover!)), ct)
                    : monitor.CommandAsync(new DisableMaintenance(name, id), ct);
            }, validate: p => NodeId(p.GetValue(nodeId)), waitOption: wait,
            plan: (p, _, _) =>
            {
                var id = NodeId(p.GetValue(nodeId));
                return Task.FromResult(new WaitPlan(FormationName(p.GetValue(formation)),
                    enable ? Waiter.InMaintenance(id) : Waiter.BackFromMaintenance(id),
                    enable ? $"maintenance of node {id}" : $"node {id} back in automation"));
            });
            return command;
        }

        private Command AutomaticFailover(bool enable)
        {
            var formation = FormationOption();
            var command = new Command("automatic-failover", enable
                ? "Resume automatic failover: an unhealthy primary is replaced by itself again"
                : "Pause automatic failover: no failover starts by itself (one under way finishes; switchover, failover, promotion and maintenance still work)")
            {
                formation,
            };
            SetMonitorAction(command, (p, monitor, ct) =>
                monitor.CommandAsync(new SetAutomaticFailover(FormationName(p.GetValue(formation)), enable), ct));
            return command;
        }

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

        // ---- plumbing

        /// <summary>
        /// A command answered by OperatorCommandSucceeded: prints the monitor's message. With a wait plan and
        /// --wait N > 0, then follows the formation's state until the plan's condition holds (or N s pass).
        /// </summary>
        private void SetMonitorAction(Command command, Func<ParseResult, MonitorClient, CancellationToken, Task<string>> send,
            Func<ParseResult, object>? validate = null, Option<double>? waitOption = null,
            Func<ParseResult, MonitorClient, CancellationToken, Task<WaitPlan>>? plan = null)
        {
            command.SetAction((p, ct) => Guard(async () =>
            {
                validate?.Invoke(p);
                Timeout(p);
                var wait = waitOption is null ? TimeSpan.Zero : Wait(p.GetValue(waitOption));
                await using var monitor = await ConnectAsync(p, ct);
                var waitPlan = wait > TimeSpan.Zero && plan is not null ? await plan(p, monitor, ct) : null;
                var message = await send(p, monitor, ct);
                await WriteAsync(string.IsNullOrWhiteSpace(message) ? "done\n" : message.TrimEnd() + "\n");
                if (waitPlan is not null)
                {
                    var reached = await new Waiter(monitor, stdout, TimeProvider.System).WaitAsync(waitPlan.Formation, waitPlan.Done, wait, ct);
                    if (!reached)
                        throw new CliFailure(ExitCodes.Unreachable,
                            $"{waitPlan.What} not reached within {MonitorClient.Seconds(wait)} s; the monitor carries on (see: pgaf show state)");
                }
                return ExitCodes.Ok;
            }, ct));
        }

        private sealed record WaitPlan(string Formation, Func<FormationState, bool> Done, string What);

        private static Option<double> WaitOption(string until) => new("--wait")
        {
            Description = $"Seconds to wait until {until}, printing each state change (0: return once the monitor accepted)",
            DefaultValueFactory = _ => 0,
        };

        private static TimeSpan Wait(double seconds) =>
            seconds is >= 0 and <= 86400
                ? TimeSpan.FromSeconds(seconds)
                : throw Usage($"--wait must be between 0 and 86400 seconds, got {seconds.ToString(CultureInfo.InvariantCulture)}");

        /// <summary>A read-only question: asked on the monitor's HTTP read API first, over the bus when that cannot answer (<see cref="MonitorReader"/>).</summary>
        private void SetQueryAction(Command command, Func<ParseResult, MonitorReader, CancellationToken, Task> query, Func<ParseResult, object>? validate = null)
        {
            command.SetAction((p, ct) => Guard(async () =>
            {
                validate?.Invoke(p);
                var timeout = Timeout(p);
                await using var monitor = new MonitorReader(MonitorReader.Resolve(p.GetValue(_monitor), environment.Get),
                    BrokerAddress.Resolve(p.GetValue(_rabbitmq), environment.Get), timeout, () => ConnectAsync(p, ct));
                await query(p, monitor, ct);
                return ExitCodes.Ok;
            }, ct));
        }

        private Task<MonitorClient> ConnectAsync(ParseResult p, CancellationToken ct) =>
            MonitorClient.ConnectAsync(BrokerAddress.Resolve(p.GetValue(_rabbitmq), environment.Get), Timeout(p), ct);

        private TimeSpan Timeout(ParseResult p)
        {
            var seconds = p.GetValue(_timeout);
            if (!(seconds > 0) || seconds > 3600) throw Usage($"--timeout must be more than 0 and at most 3600 seconds, got {seconds.ToString(CultureInfo.InvariantCulture)}");
            return TimeSpan.FromSeconds(seconds);
        }

        /// <summary>Every failure becomes one line on stderr and an exit code; never a stack trace.</summary>
        private async Task<int> Guard(Func<Task<int>> action, CancellationToken ct)
        {
            try
            {
                return await action();
            }
            catch (CliFailure failure)
            {
                await stderr.WriteLineAsync($"pgaf: {failure.Message.ReplaceLineEndings(" ")}");
                return failure.ExitCode;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await stderr.WriteLineAsync("pgaf: interrupted");
                return ExitCodes.Interrupted;
            }
            catch (Exception error)
            {
                await stderr.WriteLineAsync($"pgaf: internal error: {error.GetType().Name}: {error.Message.ReplaceLineEndings(" ")}");
                return ExitCodes.Internal;
            }
        }

        private async Task WriteAsync(string text)
        {
            await stdout.WriteAsync(text);
            await stdout.FlushAsync();
        }


        private static CliFailure Usage(string message) => new(ExitCodes.BadArguments, message);

        private static string FormationName(string? name)
        {
            if (string.IsNullOrWhiteSpace(name)) throw Usage("--formation must not be empty");
            var trimmed = name.Trim();
            // The monitor's rule (MessageRules), so that the CLI never sends a name the monitor would refuse.
            if (MessageRules.Formation(trimmed) is { } problem) throw Usage(problem);
            return trimmed;
        }

        private static long NodeId(long? id) => id switch
        {
            null => throw Usage("--node-id is required"),
            <= 0 => throw Usage($"--node-id must be a positive node id, got {id}"),
            _ => id.Value,
        };

        private static (long? Id, string? Name) NodeIdOrName(long? id, string? name)
        {
            var hasName = !string.IsNullOrWhiteSpace(name);
            if (id is null && !hasName) throw Usage("give the node with --node-id ID or --name NAME");
            if (id is not null && hasName) throw Usage("give either --node-id or --name, not both");
            return id is not null ? (NodeId(id), null) : (null, name!.Trim());
        }

        private static int Priority(int value) =>
            value is >= 0 and <= 100 ? value : throw Usage($"candidate priority must be between 0 and 100, got {value}");

        private static bool Boolean(string? value) => value?.Trim().ToLowerInvariant() switch
        {
            "true" or "on" or "yes" or "1" => true,
            "false" or "off" or "no" or "0" => false,
            _ => throw Usage($"replication quorum must be true or false, got \"{value}\""),
        };

        private static int NonNegative(int value, string what) =>
            value >= 0 ? value : throw Usage($"{what} must be 0 or more, got {value}");

        private static int Positive(int value, string what) =>
            value > 0 ? value : throw Usage($"{what} must be 1 or more, got {value}");
    }
}

/// <summary>What pgaf reads from its surroundings: environment variables and whether stdout is a terminal.</summary>
public sealed class PgafEnvironment
{
    private readonly IReadOnlyDictionary<string, string?>? _variables;

    /// <summary>The process's own environment.</summary>
    public PgafEnvironment(bool stdoutIsTerminal = false)
    {
        StdoutIsTerminal = stdoutIsTerminal;
    }

    /// <summary>Fixed variables instead of the process's environment (tests).</summary>
    public PgafEnvironment(IReadOnlyDictionary<string, string?> variables, bool stdoutIsTerminal = false)
    {
        _variables = variables;
        StdoutIsTerminal = stdoutIsTerminal;
    }

    public bool StdoutIsTerminal { get; }

    public string? Get(string name) =>
        _variables is null ? Environment.GetEnvironmentVariable(name) : _variables.GetValueOrDefault(name);
}
