using System.Net;
using System.Net.Sockets;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.IntegrationTests.Fixtures;

/// <summary>
/// A service started with what an operator can get wrong (no store configured, its HTTP port held by another
/// process, a timing or mode out of range) exits 78 (ServiceExitCodes.BadSettings, docs/operations.md#when-a-service-cannot-start) with one line on
/// stderr that names the problem, never a stack trace.
/// </summary>
public sealed class ServiceStartupErrorTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(120);

    private static Dictionary<string, string> Environment(params (string Key, string Value)[] extra)
    {
        // No broker there: nothing in these starts may depend on one.
        var environment = new Dictionary<string, string> { ["RABBITMQ_URL"] = "amqp://guest:guest@127.0.0.1:1/", ["DOTNET_NOLOGO"] = "1" };
        foreach (var (key, value) in extra) environment[key] = value;
        return environment;
    }

    private static void AssertOneLine(ProcessRunner.Result result, string service, string expected)
    {
        Assert.True(result.ExitCode == global::PgAutoFailover.Contracts.ServiceExitCodes.BadSettings, $"exit code {result.ExitCode}: {result.Combined}");
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"stderr has {lines.Length} lines: {result.StandardError}");
        Assert.StartsWith($"{service}: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    [Fact]
    public async Task A_monitor_whose_store_setting_is_not_a_connection_string_says_so_in_one_line()
    {
        var result = await ProcessRunner.RunAsync("dotnet", [ServiceProcess.Dll("monitor", "PgAutoFailover.Monitor")], Generous,
            Environment(("ConnectionStrings__MonitorStore", "Host=127.0.0.1;Port=notaport")));
        AssertOneLine(result, "monitor", "ConnectionStrings:MonitorStore is not a valid connection string");
    }

    [Theory]
    [InlineData("uri-service", "PgAutoFailover.UriService", "uri-service")]
    [InlineData("health-checker", "PgAutoFailover.HealthChecker", "health-checker")]
    public async Task A_service_whose_http_port_is_taken_says_so_in_one_line(string folder, string project, string name)
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var result = await ProcessRunner.RunAsync("dotnet", [ServiceProcess.Dll(folder, project)], Generous,
            Environment(("Urls", $"http://127.0.0.1:{port}")));

        AssertOneLine(result, name, "address already in use");
    }

    [Theory]
    [InlineData("monitor", "PgAutoFailover.Monitor", "monitor", "Monitor__Core__PrimaryLease", "00:00:00", "Monitor:Core:PrimaryLease is 00:00:00: it must be more than zero")]
    [InlineData("health-checker", "PgAutoFailover.HealthChecker", "health-checker", "HealthChecker__ProbePeriod", "-00:00:01", "HealthChecker:ProbePeriod is -00:00:01: it must be more than zero")]
    [InlineData("uri-service", "PgAutoFailover.UriService", "uri-service", "UriService__SslMode", "bogus", "UriService:SslMode is \"bogus\"")]
    public async Task A_service_with_a_setting_out_of_range_names_it_in_one_line(string folder, string project, string name, string key, string value, string expected)
    {
        var result = await ProcessRunner.RunAsync("dotnet", [ServiceProcess.Dll(folder, project)], Generous,
            Environment((key, value), ("ConnectionStrings__MonitorStore", "Host=127.0.0.1;Port=1;Username=nobody")));

        AssertOneLine(result, name, expected);
    }
}
