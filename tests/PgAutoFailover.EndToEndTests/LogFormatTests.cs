using System.Text.Json;
using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.EndToEndTests;

/// <summary>docs/operations.md#logs: every service logs one line per entry with its UTC time and level; JSON on request.</summary>
public sealed class LogFormatTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task A_service_logs_timestamped_levelled_lines_and_json_lines_when_asked()
    {
        var folder = Path.Combine(Path.GetTempPath(), "pgaf-test", $"log-{Guid.NewGuid():N}"[..12]);
        Directory.CreateDirectory(folder);
        try
        {
            var plain = await FirstLinesAsync(folder, "plain", new Dictionary<string, string>());
            Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z info: Microsoft\.Hosting\.Lifetime\[\d+\] Now listening on: ", plain.Single(l => l.Contains("Now listening on")));
            // The short broker reconnect schedule took (docs/operations.md#when-the-broker-restarts): no warning that it did not.
            Assert.DoesNotContain(plain, l => l.Contains("Broker reconnects stay on", StringComparison.Ordinal));

            var json = await FirstLinesAsync(folder, "json", new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "json" });
            using var entry = JsonDocument.Parse(json.Single(l => l.Contains("Now listening on")));
            Assert.Equal("Information", entry.RootElement.GetProperty("LogLevel").GetString());
            Assert.Equal("Microsoft.Hosting.Lifetime", entry.RootElement.GetProperty("Category").GetString());
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", entry.RootElement.GetProperty("Timestamp").GetString());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The uri-service started as a process until it listens; its console output, line by line.</summary>
    private async Task<string[]> FirstLinesAsync(string folder, string name, Dictionary<string, string> environment)
    {
        var port = Ports.Free();
        environment["RABBITMQ_URL"] = (await broker.NewVirtualHostAsync()).ToString();
        environment["Urls"] = $"http://127.0.0.1:{port}";
        await using var service = new ServiceProcess(name, "PgAutoFailover.UriService", Path.Combine(folder, $"{name}.log"), environment);
        service.Start(ServiceProcess.Dll("uri-service", "PgAutoFailover.UriService"));
        await service.WaitHealthyAsync(port, TimeSpan.FromMinutes(1));
        await service.StopAsync(TimeSpan.FromSeconds(30));
        return (await File.ReadAllLinesAsync(service.LogFile)).Where(l => !l.StartsWith("====", StringComparison.Ordinal)).ToArray();
    }
}
