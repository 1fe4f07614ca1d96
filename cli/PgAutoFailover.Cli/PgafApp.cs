using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// pgaf's entry point, callable in-process (tests): parses the command line, talks to the monitor over
/// RabbitMQ, writes tables or JSON to <c>stdout</c> and at most one error line to <c>stderr</c>.
/// </summary>
public static partial class PgafApp
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

    private sealed partial class App(TextWriter stdout, TextWriter stderr, PgafEnvironment environment)
    {
        private readonly Option<string?> _rabbitmq = new("--rabbitmq")
        {
            Description = $"RabbitMQ URL of the deployment (default: env RABBITMQ_URL, or the file env RABBITMQ_URL_FILE names, else {BrokerAddress.Default}); " +
                          $"amqps:// for TLS, with env {BrokerTls.CaFileVariable} naming the broker's CA file",
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
            root.Subcommands.Add(new Command("show", "Show the monitor's view, and a systemd unit") { ShowState(), ShowEvents(), ShowUri(), ShowSettings(), ShowSystemd() });
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
            root.Subcommands.Add(Events());
            return root;
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
            MonitorClient.ConnectAsync(BrokerAddress.Resolve(p.GetValue(_rabbitmq), environment.Get),
                environment.Get(BrokerTls.CaFileVariable), Timeout(p), ct);

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
