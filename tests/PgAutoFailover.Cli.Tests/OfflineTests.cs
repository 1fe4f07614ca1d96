using System.Net;
using System.Text;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>pgaf without a monitor: help, usage errors, an unreachable broker, show uri against a stand-in uri-service.</summary>
public sealed class OfflineTests
{
    public static TheoryData<string> Verbs => new()
    {
        "", "create", "create formation", "drop", "drop formation", "drop node", "show", "show state", "show events",
        "show uri", "show settings", "show systemd", "perform", "perform failover", "perform switchover", "perform promotion",
        "enable", "enable maintenance", "disable", "disable maintenance", "set", "set node", "set node candidate-priority",
        "set node replication-quorum", "set formation", "set formation number-sync-standbys", "watch",
    };

    [Theory]
    [MemberData(nameof(Verbs))]
    public async Task Every_verb_has_help(string verb)
    {
        var args = verb.Split(' ', StringSplitOptions.RemoveEmptyEntries).Append("--help").ToArray();
        var result = await CliRun.RunAsync(args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Usage:", result.Stdout);
        // The program name is the executable's (pgaf; testhost here), then the verb's words.
        Assert.Matches(@"Usage:\s+\S+" + (verb.Length > 0 ? " " + System.Text.RegularExpressions.Regex.Escape(verb) : "") + @" [\[<]", result.Stdout);
        Assert.Equal("", result.Stderr);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("show")]
    [InlineData("show", "state", "--count", "3")]
    [InlineData("set", "node", "candidate-priority", "--node-id", "1", "high")]
    [InlineData("show", "events", "--count", "0")]
    [InlineData("show", "state", "--timeout", "0")]
    [InlineData("show", "state", "--formation", "has space")]
    [InlineData("show", "state", "--rabbitmq", "http://wrong/")]
    public async Task Bad_usage_is_one_line_and_exit_1(params string[] args)
    {
        var result = await CliRun.RunAsync(args);

        Assert.Equal(1, result.ExitCode);
        CliRun.SingleErrorLine(result);
        Assert.Equal("", result.Stdout);
    }

    [Theory]
    [InlineData("pgaf: --formation needs a value, and '--json' is an option of its own (see: pgaf show state --help)", "show", "state", "--formation", "--json")]
    [InlineData("pgaf: --node-id needs a value, and '--allow-failover' is an option of its own (see: pgaf enable maintenance --help)",
        "enable", "maintenance", "--node-id", "--allow-failover")]
    [InlineData("pgaf: --formation needs a value (see: pgaf perform failover --help)", "perform", "failover", "--formation")]
    [InlineData("pgaf: --count needs a whole number, got 'many' (see: pgaf show events --help)", "show", "events", "--count", "many")]
    [InlineData("pgaf: 'candidate-priority' needs <priority> (see: pgaf set node candidate-priority --help)", "set", "node", "candidate-priority", "--node-id", "1")]
    [InlineData("pgaf: 'show' needs one of: state, events, uri, settings, systemd (see: pgaf show --help)", "show")]
    [InlineData("pgaf: 'bogus' is not a command or option here (see: pgaf --help)", "bogus")]
    [InlineData("pgaf: --timeout must be more than 0 and at most 3600 seconds, got 0", "show", "state", "--timeout", "0")]
    [InlineData("pgaf: \"a.b\" is not a valid formation name (letters, digits, '_' and '-', not first)", "show", "state", "--formation", "a.b")]
    public async Task Usage_errors_say_what_is_wrong_in_an_operators_words(string expected, params string[] args)
    {
        var result = await CliRun.RunAsync(args);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(expected, CliRun.SingleErrorLine(result));
    }

    [Fact]
    public async Task An_unreachable_broker_is_one_line_and_exit_6()
    {
        var port = Ports.Free();
        var result = await CliRun.RunAsync(new Dictionary<string, string?> { ["RABBITMQ_URL"] = $"amqp://guest:s3cret@127.0.0.1:{port}/" },
            "perform", "failover", "--timeout", "3");

        Assert.Equal(6, result.ExitCode);
        var line = CliRun.SingleErrorLine(result);
        Assert.StartsWith($"pgaf: cannot connect to RabbitMQ at amqp://guest:***@127.0.0.1:{port}/", line);
        Assert.DoesNotContain("s3cret", line);
    }

    [Fact]
    public async Task Show_uri_reads_the_uri_services_json_answer()
    {
        await using var service = await StandIn.StartAsync(HttpStatusCode.OK, "application/json",
            """{"formation":"default","target":"read-write","uri":"postgres://node1:5432,node2:5432/postgres?target_session_attrs=read-write","primary":null,"version":4}""");

        var table = await CliRun.RunAsync(new Dictionary<string, string?> { ["PGAF_URI_SERVICE"] = service.Url }, "show", "uri");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Equal(
            "     Type |    Name | Connection String\n" +
            "----------+---------+--------------------------------------------------------------------------\n" +
            "formation | default | postgres://node1:5432,node2:5432/postgres?target_session_attrs=read-write\n", table.Stdout);
        Assert.Equal("/formations/default/uri", service.LastPath);

        var json = await CliRun.RunAsync(["show", "uri", "--formation", "sales", "--uri-service", service.Url, "--json"]);
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Contains("\"type\": \"formation\"", json.Stdout);
        Assert.Contains("\"name\": \"sales\"", json.Stdout);
        Assert.Equal("/formations/sales/uri", service.LastPath);
    }

    [Fact]
    public async Task Show_uri_of_an_unknown_formation_says_why_and_exits_3()
    {
        await using var service = await StandIn.StartAsync(HttpStatusCode.NotFound, "application/json", """{"error":"formation \"nope\" is unknown"}""");

        var result = await CliRun.RunAsync(["show", "uri", "--formation", "nope", "--uri-service", service.Url]);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("pgaf: uri-service: formation \"nope\" is unknown", CliRun.SingleErrorLine(result));
    }

    [Fact]
    public async Task Show_uri_with_the_uri_service_down_is_one_line_and_exit_6()
    {
        var url = $"http://127.0.0.1:{Ports.Free()}";
        var result = await CliRun.RunAsync(["show", "uri", "--uri-service", url, "--timeout", "3"]);

        Assert.Equal(6, result.ExitCode);
        Assert.StartsWith($"pgaf: the uri-service at {url}/ is not reachable", CliRun.SingleErrorLine(result));
    }

    /// <summary>A one-answer HTTP server standing in for the uri-service.</summary>
    private sealed class StandIn : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        private StandIn(int port, HttpStatusCode status, string contentType, string body)
        {
            Url = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try { context = await _listener.GetContextAsync(); }
                    catch (Exception) { return; }
                    LastPath = context.Request.Url?.AbsolutePath;
                    var bytes = Encoding.UTF8.GetBytes(body);
                    context.Response.StatusCode = (int)status;
                    context.Response.ContentType = contentType;
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
            });
        }

        public string Url { get; }

        public string? LastPath { get; private set; }

        public static Task<StandIn> StartAsync(HttpStatusCode status, string contentType, string body) =>
            Task.FromResult(new StandIn(Ports.Free(), status, contentType, body));

        public async ValueTask DisposeAsync()
        {
            // Close alone: after Stop, the managed HttpListener's Close binds the port again to remove its prefix, and
            // threw "Address already in use" in CI once another test had taken the freed port.
            _listener.Close();
            await _loop;
        }
    }
}
