using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.EndToEndTests;

/// <summary>
/// Issue 14 part 5 (docs/operations.md#when-a-service-cannot-start): a service that cannot work ends once, with one
/// line on stderr and an exit code a supervisor can act on (<see cref="ServiceExitCodes"/>), instead of retrying for
/// ever or printing a stack trace. Real service processes, a real broker and a real PostgreSQL for the store.
/// </summary>
public sealed class StartFailureTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    /// <summary>The service with <paramref name="environment"/> on top of this process's, less RABBITMQ_URL when not given (test.sh sets it).</summary>
    private static Task<ProcessRunner.Result> RunAsync(string folder, string project, Dictionary<string, string> environment)
    {
        environment["Urls"] = "http://127.0.0.1:0";
        string[] unset = environment.ContainsKey("RABBITMQ_URL") ? [] : ["-u", "RABBITMQ_URL"];
        return ProcessRunner.RunAsync("env", [.. unset, "dotnet", ServiceProcess.Dll(folder, project)], Limit, environment);
    }

    private static string LastLine(ProcessRunner.Result result) =>
        result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";

    [Fact]
    public async Task A_broker_that_refuses_the_password_stops_the_service_with_exit_77_and_one_line()
    {
        var url = new UriBuilder(broker.AmqpUri) { Password = "not-the-password" }.Uri;
        var result = await RunAsync("health-checker", "PgAutoFailover.HealthChecker", new() { ["RABBITMQ_URL"] = url.ToString() });

        Assert.True(result.ExitCode == ServiceExitCodes.Refused, result.Combined);
        Assert.Equal("health-checker: the broker refused the user name or password", LastLine(result));
        Assert.DoesNotContain("   at ", result.StandardError); // no stack trace
    }

    [Fact]
    public async Task The_broker_url_is_read_from_the_file_rabbitmq_url_file_names()
    {
        // docs/operations.md#secrets: the URL with its password comes from a file; a wrong one there is refused as such.
        var file = Path.Combine(Path.GetTempPath(), $"pgaf-url-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, new UriBuilder(broker.AmqpUri) { Password = "not-the-password" }.Uri + "\n");
        try
        {
            var result = await RunAsync("health-checker", "PgAutoFailover.HealthChecker", new() { ["RABBITMQ_URL_FILE"] = file });
            Assert.True(result.ExitCode == ServiceExitCodes.Refused, result.Combined);
            Assert.Equal("health-checker: the broker refused the user name or password", LastLine(result));
            Assert.DoesNotContain("not-the-password", result.Combined); // never in its output
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_setting_that_cannot_work_stops_the_service_with_exit_78_and_one_line()
    {
        var result = await RunAsync("health-checker", "PgAutoFailover.HealthChecker",
            new() { ["RABBITMQ_URL"] = broker.AmqpUri.ToString(), ["HealthChecker__ProbePeriod"] = "soon" });

        Assert.True(result.ExitCode == ServiceExitCodes.BadSettings, result.Combined);
        Assert.StartsWith("health-checker: ", LastLine(result));
        Assert.Contains("soon", LastLine(result));
        Assert.DoesNotContain("   at ", result.StandardError);
    }

    [Fact]
    public async Task A_store_without_the_monitors_database_stops_the_monitor_with_exit_78_and_one_line()
    {
        await using var store = await PgCluster.CreateAsync();
        var result = await RunAsync("monitor", "PgAutoFailover.Monitor", new()
        {
            ["RABBITMQ_URL"] = (await broker.NewVirtualHostAsync()).ToString(),
            ["ConnectionStrings__MonitorStore"] = $"Host=127.0.0.1;Port={store.Port};Database=no_such_database;Username=postgres",
        });

        Assert.True(result.ExitCode == ServiceExitCodes.BadSettings, result.Combined);
        Assert.Equal("monitor: the monitor store says: database \"no_such_database\" does not exist", LastLine(result));
        Assert.DoesNotContain("   at ", result.StandardError);
    }
}
