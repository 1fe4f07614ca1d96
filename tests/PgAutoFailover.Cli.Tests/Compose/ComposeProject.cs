using System.Text.Json;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests.Compose;

/// <summary>
/// docker-compose.yml run under a project name of its own, with fresh passwords, free host ports and a subnet no other
/// deployment uses; the docker, docker-compose and pgaf commands a user types, run as processes.
/// </summary>
public sealed class ComposeProject
{
    public const string Name = "pgaf-compose-test";
    public const string Network = Name + "_pgaf";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    public ComposeProject()
    {
        string Secret() => Guid.NewGuid().ToString("N")[..20];
        RabbitPorts = [Ports.Free(), Ports.Free(), Ports.Free()];
        UriServicePort = Ports.Free();
        PrometheusPort = Ports.Free();
        AppPassword = Secret();
        Environment = new Dictionary<string, string>
        {
            ["RABBITMQ_PASSWORD"] = Secret(),
            ["MONITOR_STORE_PASSWORD"] = Secret(),
            ["MONITOR_STORE_ADMIN_PASSWORD"] = Secret(),
            ["REPLICATION_PASSWORD"] = Secret(),
            ["HEALTHCHECK_PASSWORD"] = Secret(),
            ["APP_PASSWORD"] = AppPassword,
            ["RABBITMQ_HOST_PORT"] = RabbitPorts[0].ToString(),
            ["RABBITMQ_2_HOST_PORT"] = RabbitPorts[1].ToString(),
            ["RABBITMQ_3_HOST_PORT"] = RabbitPorts[2].ToString(),
            ["RABBITMQ_MANAGEMENT_HOST_PORT"] = Ports.Free().ToString(),
            ["URI_SERVICE_HOST_PORT"] = UriServicePort.ToString(),
            ["NODE1_HOST_PORT"] = Ports.Free().ToString(),
            ["NODE2_HOST_PORT"] = Ports.Free().ToString(),
            ["PGAF_SUBNET"] = "172.30.79.0/24",
            ["PGAF_CLIENT_NETWORK"] = "172.30.79.0/24",
            ["PROMETHEUS_HOST_PORT"] = PrometheusPort.ToString(),
            // The optional profiles too, Prometheus with deploy/prometheus and the three-node broker: up and down both see them.
            ["COMPOSE_PROFILES"] = "monitoring,broker-cluster",
            ["COMPOSE_PROJECT_NAME"] = Name,
            ["DOCKER_BUILDKIT"] = "0",
        };
    }

    public IReadOnlyDictionary<string, string> Environment { get; }
    /// <summary>The three broker nodes' published AMQP ports.</summary>
    public IReadOnlyList<int> RabbitPorts { get; }
    public int UriServicePort { get; }
    public int PrometheusPort { get; }
    public string AppPassword { get; }
    /// <summary>The administrator's URL with every broker node, as an operator gives pgaf a cluster (any live node answers).</summary>
    public string RabbitUrl =>
        $"amqp://pgaf:{Environment["RABBITMQ_PASSWORD"]}@{string.Join(',', RabbitPorts.Select(p => $"127.0.0.1:{p}"))}/";

    public static string Container(string service) => $"{Name}_{service}_1";

    public Task<ProcessRunner.Result> ComposeAsync(params string[] args) =>
        ProcessRunner.RunAsync("docker-compose", ["-f", Path.Combine(ComposeTests.RepositoryRoot, "docker-compose.yml"), .. args],
            CommandTimeout, new Dictionary<string, string>(Environment));

    public static Task<ProcessRunner.Result> DockerAsync(params string[] args) => ProcessRunner.RunAsync("docker", args, CommandTimeout);

    public Task<ProcessRunner.Result> PgafAsync(params string[] args) =>
        ProcessRunner.RunAsync(PgafPath, args, TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["RABBITMQ_URL"] = RabbitUrl, ["PGAF_MONITOR"] = "http://127.0.0.1:1" });

    /// <summary>The pgaf a user runs: the CLI project's own build output, of this test build's configuration.</summary>
    private static string PgafPath
    {
        get
        {
            var build = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')); // …/bin/<configuration>/<framework>
            return Path.Combine(ComposeTests.RepositoryRoot, "cli/PgAutoFailover.Cli/bin", build.Parent!.Name, build.Name, "pgaf");
        }
    }

    /// <summary>`pgaf show state --json` as (name, reported, assigned) rows; empty while the monitor does not answer.</summary>
    public async Task<IReadOnlyList<(string Name, string Reported, string Assigned)>> StateAsync()
    {
        var result = await PgafAsync("show", "state", "--json", "--timeout", "5");
        if (result.ExitCode != 0) return [];
        using var json = JsonDocument.Parse(result.StandardOutput);
        return json.RootElement.EnumerateArray()
            .Select(n => (n.GetProperty("nodename").GetString()!, n.GetProperty("current_group_state").GetString()!,
                n.GetProperty("assigned_group_state").GetString()!))
            .ToList();
    }

    /// <summary>One psql command in a throwaway container on the deployment's network, with the URI as printed and PGPASSWORD.</summary>
    public Task<ProcessRunner.Result> PsqlAsync(string uri, string sql) =>
        DockerAsync("run", "--rm", "--network", Network, "-e", $"PGPASSWORD={AppPassword}", "-e", "PGCONNECT_TIMEOUT=5",
            "--entrypoint", "psql", "postgres:15", uri, "-X", "-v", "ON_ERROR_STOP=1", "-Atqc", sql);

    /// <summary>
    /// A writer container: psql through the URI, one INSERT per connection, about 15 a second; it prints "ack N" only
    /// for an INSERT whose COMMIT psql saw succeed.
    /// </summary>
    public Task<ProcessRunner.Result> StartWriterAsync(string uri) =>
        DockerAsync("run", "-d", "--name", Container("writer"), "--network", Network, "-e", $"PGPASSWORD={AppPassword}",
            "-e", "PGCONNECT_TIMEOUT=2", "-e", $"URI={uri}", "--entrypoint", "bash", "postgres:15", "-c", """
                until psql "$URI" -X -qc 'CREATE TABLE IF NOT EXISTS acked (id bigint PRIMARY KEY)'; do sleep 0.5; done
                i=0
                while :; do
                  i=$((i + 1))
                  if psql "$URI" -X -qAtc "INSERT INTO acked VALUES ($i)" >/dev/null 2>&1; then echo "ack $i"; fi
                  sleep 0.05
                done
                """);

    public static async Task<IReadOnlyList<long>> AckedAsync()
    {
        var logs = await DockerAsync("logs", Container("writer"));
        return logs.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("ack ", StringComparison.Ordinal)).Select(l => long.Parse(l[4..])).ToList();
    }

    /// <summary>Everything this project left: containers (the writer too), its network and volumes.</summary>
    public async Task DownAsync()
    {
        await DockerAsync("rm", "-f", "-v", Container("writer"));
        await ComposeAsync("down", "-v", "--remove-orphans", "--timeout", "20");
    }
}
