using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// docker-compose.yml, checked statically: docker-compose's own validation, plus the deployment's rules read from the
/// file. Compose/ComposeDeploymentTests builds and runs it.
/// </summary>
public sealed class ComposeTests
{
    private static readonly string[] ExpectedServices =
        ["rabbitmq", "monitor-store", "monitor", "monitor-2", "monitor-3", "health-checker", "uri-service", "node1", "node2"];

    /// <summary>Services of the optional "monitoring" profile, started only with --profile monitoring.</summary>
    private static readonly string[] MonitoringServices = ["prometheus"];

    /// <summary>The broker nodes COMPOSE_PROFILES=broker-cluster adds to the first one.</summary>
    private static readonly string[] BrokerClusterServices = ["rabbitmq-2", "rabbitmq-3"];

    private static IEnumerable<string> AllServices => ExpectedServices.Concat(MonitoringServices).Concat(BrokerClusterServices).Order();

    private static readonly Dictionary<string, string> Credentials = new()
    {
        ["RABBITMQ_PASSWORD"] = "test-rabbit",
        ["MONITOR_STORE_PASSWORD"] = "test-store",
        ["MONITOR_STORE_ADMIN_PASSWORD"] = "test-store-admin",
        ["REPLICATION_PASSWORD"] = "test-replication",
        ["HEALTHCHECK_PASSWORD"] = "test-healthcheck",
        ["APP_PASSWORD"] = "test-app",
    };

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "PgAutoFailover.sln")) && File.Exists(Path.Combine(dir.FullName, "docker-compose.yml")))
                    return dir.FullName;
            }
            throw new InvalidOperationException($"no repository root above {AppContext.BaseDirectory}");
        }
    }

    private static ComposeFile Compose => new(File.ReadAllText(Path.Combine(RepositoryRoot, "docker-compose.yml")));

    [Fact]
    public void Describes_the_whole_deployment()
    {
        Assert.Equal(AllServices, Compose.Services.Keys.Order());
        Assert.All(MonitoringServices, s => Assert.Equal("[monitoring]", Compose.Services[s].Value("profiles")));
        Assert.All(BrokerClusterServices, s => Assert.Equal("[broker-cluster]", Compose.Services[s].Value("profiles")));
        Assert.DoesNotContain("name", Compose.TopLevelKeys); // docker-compose 1.29 rejects a top-level name
    }

    [Fact]
    public void Every_service_has_a_healthcheck_with_a_test()
    {
        foreach (var service in Compose.Services.Values)
        {
            Assert.True(service.Keys.Contains("healthcheck"), $"{service.Name} has no healthcheck");
            Assert.Contains(service.Block("healthcheck"), l => ComposeFile.KeyOf(l) == "test");
        }
    }

    [Fact]
    public void Every_dependency_waits_for_a_healthy_service()
    {
        var compose = Compose;
        foreach (var service in compose.Services.Values)
        {
            var block = service.Block("depends_on");
            var targets = block.Where(l => ComposeFile.Indent(l) == 6).Select(ComposeFile.KeyOf).ToList();
            Assert.Equal(targets.Count, block.Count(l => ComposeFile.Indent(l) == 8 && ComposeFile.ValueOf(l) == "service_healthy"));
            Assert.All(targets, t => Assert.Contains(t, compose.Services.Keys));
        }
        Assert.Contains("node1", compose.Services["node2"].Block("depends_on").Select(ComposeFile.KeyOf));
        Assert.Contains("monitor-store", compose.Services["monitor"].Block("depends_on").Select(ComposeFile.KeyOf));
    }

    [Fact]
    public void Every_build_context_dockerfile_and_target_exists()
    {
        var built = 0;
        foreach (var service in Compose.Services.Values)
        {
            var build = service.Block("build");
            if (build.Count == 0)
            {
                Assert.True(service.Value("image") is not null || service.Value("build") is not null, $"{service.Name} has neither image nor build");
                if (service.Value("build") is { } inline) Assert.True(Directory.Exists(Path.Combine(RepositoryRoot, inline)), inline);
                continue;
            }
            built++;
            var context = build.Where(l => ComposeFile.KeyOf(l) == "context").Select(ComposeFile.ValueOf).Single()!;
            var dockerfile = build.Where(l => ComposeFile.KeyOf(l) == "dockerfile").Select(ComposeFile.ValueOf).SingleOrDefault() ?? "Dockerfile";
            var contextPath = Path.GetFullPath(Path.Combine(RepositoryRoot, context));
            Assert.True(Directory.Exists(contextPath), $"{service.Name}: build context {context} does not exist");
            var dockerfilePath = Path.Combine(contextPath, dockerfile);
            Assert.True(File.Exists(dockerfilePath), $"{service.Name}: {dockerfile} does not exist");
            // The stage it builds is one of the Dockerfile's.
            var target = build.Where(l => ComposeFile.KeyOf(l) == "target").Select(ComposeFile.ValueOf).SingleOrDefault();
            if (target is not null)
                Assert.Contains(File.ReadAllLines(dockerfilePath), l => l.StartsWith("FROM ", StringComparison.Ordinal) && l.EndsWith($" AS {target}", StringComparison.Ordinal));
            // Everything the Dockerfile copies from the context is there.
            foreach (var line in File.ReadAllLines(dockerfilePath).Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from=")))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                foreach (var source in parts[1..^1])
                    Assert.True(File.Exists(Path.Combine(contextPath, source)) || Directory.Exists(Path.Combine(contextPath, source)),
                        $"{dockerfile}: COPY source {source} does not exist");
            }
        }
        Assert.Equal(7, built); // three monitors, health-checker, uri-service, node1, node2
    }

    [Fact]
    public void Three_monitors_share_the_store_the_broker_user_and_the_scrape()
    {
        var compose = Compose;
        var monitors = new[] { "monitor", "monitor-2", "monitor-3" };
        var first = compose.Services["monitor"];
        foreach (var name in monitors)
        {
            var monitor = compose.Services[name];
            Assert.Equal(name, monitor.Value("hostname"));
            // Everything but the host name is the first monitor's: one store, one broker user, one health check.
            Assert.Equal(first.Lines.Where(l => ComposeFile.KeyOf(l) != "hostname"), monitor.Lines.Where(l => ComposeFile.KeyOf(l) != "hostname"));
        }
        Assert.Contains("- broker-monitor:/run/pgaf-broker:ro", first.Block("volumes").Select(l => l.Trim()));
        var scrape = File.ReadAllText(Path.Combine(RepositoryRoot, "deploy/prometheus/prometheus.yml"));
        Assert.Contains("""- targets: ["monitor:7101", "monitor-2:7101", "monitor-3:7101"]""", scrape);
    }

    [Fact]
    public void The_broker_cluster_nodes_join_the_first_and_keep_their_own_data()
    {
        var compose = Compose;
        foreach (var name in BrokerClusterServices)
        {
            var node = compose.Services[name];
            Assert.Equal(name, node.Value("hostname"));
            Assert.Contains(node.Block("environment"), l => l.Trim() == "PGAF_BROKER_JOIN: rabbit@rabbitmq");
            Assert.Contains($"- {name}:/var/lib/rabbitmq", node.Block("volumes").Select(l => l.Trim()));
            Assert.NotEmpty(node.Block("healthcheck"));
            Assert.Equal(compose.Services["rabbitmq"].Block("healthcheck"), node.Block("healthcheck"));
        }
        Assert.Equal("rabbitmq", compose.Services["rabbitmq"].Value("hostname"));
    }

    [Fact]
    public void The_build_context_leaves_out_build_outputs_and_git()
    {
        var ignored = File.ReadAllLines(Path.Combine(RepositoryRoot, ".dockerignore")).Select(l => l.Trim()).ToList();
        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
        Assert.Contains(".git", ignored);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Scripts_copied_into_images_or_run_by_the_tests_are_executable()
    {
        foreach (var script in new[] { "scripts/docker/healthcheck.sh", "services/keeper/docker-entrypoint.sh",
                     "scripts/docker/engine.sh", "scripts/docker/build-images.sh", "scripts/docker/standin-images.sh",
                     "scripts/docker/standins/postgres/docker-entrypoint.sh", "scripts/docker/standins/rabbitmq/docker-entrypoint.sh",
                     "scripts/docker/broker-init.sh", "scripts/broker/definitions.sh" })
        {
            var mode = File.GetUnixFileMode(Path.Combine(RepositoryRoot, script));
            Assert.True(mode.HasFlag(UnixFileMode.UserExecute), $"{script} is not executable");
        }
    }

    private static bool DockerComposeInstalled =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, "docker-compose")));

    /// <summary>docker-compose is required in CI (test.sh installs it); elsewhere these checks need it on PATH.</summary>
    private static bool RequireDockerCompose()
    {
        if (DockerComposeInstalled) return true;
        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "docker-compose is not on PATH (test.sh installs it)");
        return false;
    }

    private static Task<ProcessRunner.Result> DockerComposeAsync(IDictionary<string, string> environment, params string[] args)
    {
        // Start from a clean slate for the variables the file reads, so the outer environment cannot hide a problem.
        var env = new Dictionary<string, string>(environment);
        foreach (var name in new[] { "RABBITMQ_PASSWORD", "MONITOR_STORE_PASSWORD", "MONITOR_STORE_ADMIN_PASSWORD", "REPLICATION_PASSWORD", "HEALTHCHECK_PASSWORD", "APP_PASSWORD" })
            env.TryAdd(name, "");
        return ProcessRunner.RunAsync("docker-compose", ["-f", Path.Combine(RepositoryRoot, "docker-compose.yml"), .. args],
            TimeSpan.FromMinutes(2), env);
    }

    [Fact]
    public async Task Docker_compose_accepts_the_file()
    {
        if (!RequireDockerCompose()) return;
        var result = await DockerComposeAsync(Credentials, "config", "-q");
        Assert.True(result.ExitCode == 0, $"docker-compose config -q failed: {result.Combined}");

        var services = await DockerComposeAsync(Credentials, "config", "--services");
        // docker-compose 1.29 lists a profile's services too; `up` without the profile leaves them out.
        Assert.Equal(AllServices,
            services.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()).Order());
        var monitoring = await DockerComposeAsync(new Dictionary<string, string>(Credentials) { ["COMPOSE_PROFILES"] = "monitoring" }, "config");
        Assert.True(monitoring.ExitCode == 0, monitoring.Combined);
        Assert.Contains("./deploy/prometheus:/etc/prometheus:ro".Replace("./", RepositoryRoot + "/", StringComparison.Ordinal), monitoring.StandardOutput);
        // The profile reaches every broker node's entry point, which lists the three hosts in the services' URLs.
        var cluster = await DockerComposeAsync(new Dictionary<string, string>(Credentials) { ["COMPOSE_PROFILES"] = "broker-cluster" }, "config");
        Assert.True(cluster.ExitCode == 0, cluster.Combined);
        Assert.Equal(3, cluster.StandardOutput.Split('\n').Count(l => l.Trim() == "PGAF_COMPOSE_PROFILES: broker-cluster"));
    }

    [Fact]
    public async Task Docker_compose_passes_credentials_from_the_environment_to_the_services()
    {
        if (!RequireDockerCompose()) return;
        var result = await DockerComposeAsync(Credentials, "config");
        Assert.True(result.ExitCode == 0, result.Combined);
        // The administrator is the broker's (for people); each service reads its own broker user's URL from a volume
        // only it and the broker mount (scripts/docker/broker-init.sh).
        Assert.Contains("RABBITMQ_DEFAULT_PASS: test-rabbit", result.StandardOutput);
        Assert.DoesNotContain("RABBITMQ_URL:", result.StandardOutput);
        Assert.Equal(7, result.StandardOutput.Split('\n').Count(l => l.Trim() == "RABBITMQ_URL_FILE: /run/pgaf-broker/url"));
        foreach (var service in new[] { "monitor", "health-checker", "uri-service", "keeper" })
        {
            Assert.Contains($"- broker-{service}:/run/pgaf-broker:ro", result.StandardOutput);
        }
        Assert.Contains("Username=pgaf_monitor_store;Password=test-store", result.StandardOutput); // the monitor's own role
        Assert.Contains("PGAF_MONITOR_STORE_PASSWORD: test-store", result.StandardOutput);
        Assert.Contains("Keeper__ReplicationPassword: test-replication", result.StandardOutput);
        // The keepers set the health-check role's password that the health-checker logs in with.
        Assert.Contains("Keeper__HealthCheckPassword: test-healthcheck", result.StandardOutput);
        Assert.Contains("HealthChecker__Password: test-healthcheck", result.StandardOutput);
        Assert.Contains("127.0.0.1:7103:7103", result.StandardOutput);
        // The application role the URI names, its password for the keepers only.
        Assert.Contains("Keeper__ApplicationPassword: test-app", result.StandardOutput);
        Assert.Contains("UriService__User: app", result.StandardOutput);
        Assert.Equal(2, result.StandardOutput.Split("test-app").Length - 1); // node1's and node2's keeper, nowhere else
    }

    [Theory]
    [InlineData("RABBITMQ_PASSWORD")]
    [InlineData("MONITOR_STORE_PASSWORD")]
    [InlineData("MONITOR_STORE_ADMIN_PASSWORD")]
    [InlineData("REPLICATION_PASSWORD")]
    [InlineData("HEALTHCHECK_PASSWORD")]
    [InlineData("APP_PASSWORD")]
    public async Task Docker_compose_refuses_to_run_without_a_password(string missing)
    {
        if (!RequireDockerCompose()) return;
        var environment = Credentials.Where(kv => kv.Key != missing).ToDictionary();
        environment[missing] = "";
        var result = await DockerComposeAsync(environment, "config", "-q");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"set {missing}", result.Combined);
    }
}
