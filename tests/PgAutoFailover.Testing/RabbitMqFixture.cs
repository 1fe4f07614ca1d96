using System.Net.Http.Headers;
using System.Text;
using DotNet.Testcontainers.Configurations;
using Testcontainers.RabbitMq;

namespace PgAutoFailover.Testing;

/// <summary>
/// A RabbitMQ broker for a test class, with a virtual host of its own so that classes running
/// in parallel never see each other's messages. The broker is, in order: RABBITMQ_URL (CI and
/// local runs), a Testcontainers container when a Docker engine answers, or a private node
/// started from Debian's rabbitmq-server.
/// </summary>
public sealed class RabbitMqFixture : IAsyncLifetime
{
    private RabbitMqContainer? _container;
    private LocalRabbitNode? _node;
    private Uri? _brokerUri;
    private readonly List<string> _virtualHosts = [];

    /// <summary>Where the broker came from: external, testcontainers or local-node.</summary>
    public string Mode { get; private set; } = "";

    /// <summary>AMQP URI of this fixture's own virtual host.</summary>
    public Uri AmqpUri { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var url = Environment.GetEnvironmentVariable("RABBITMQ_URL");
        if (!string.IsNullOrWhiteSpace(url))
        {
            _brokerUri = new Uri(url);
            Mode = "external";
        }
        else if (TestcontainersSettings.OS.DockerEndpointAuthConfig is not null)
        {
            _container = new RabbitMqBuilder("rabbitmq:3.13-management").Build();
            await _container.StartAsync();
            _brokerUri = new Uri(_container.GetConnectionString());
            Mode = "testcontainers";
        }
        else if (LocalRabbitNode.Available)
        {
            _node = await LocalRabbitNode.StartAsync();
            _brokerUri = _node.AmqpUri;
            Mode = "local-node";
        }
        else
        {
            throw new InvalidOperationException(
                "No RabbitMQ broker: set RABBITMQ_URL, run a Docker engine, or apt-get install rabbitmq-server");
        }

        var vhost = $"pgaf-test-{Guid.NewGuid():N}"[..22];
        AmqpUri = await CreateVirtualHostAsync(_brokerUri, vhost) ? WithVirtualHost(_brokerUri, vhost) : _brokerUri;
        if (AmqpUri != _brokerUri) _virtualHosts.Add(vhost);
    }

    /// <summary>A fresh virtual host on the same broker, for a test that wants more isolation than the fixture's.</summary>
    public async Task<Uri> NewVirtualHostAsync()
    {
        var vhost = $"pgaf-test-{Guid.NewGuid():N}"[..22];
        if (!await CreateVirtualHostAsync(_brokerUri!, vhost))
        {
            throw new InvalidOperationException("could not create a RabbitMQ virtual host");
        }
        _virtualHosts.Add(vhost);
        return WithVirtualHost(_brokerUri!, vhost);
    }

    private static Uri WithVirtualHost(Uri broker, string vhost) =>
        new UriBuilder(broker) { Path = "/" + Uri.EscapeDataString(vhost) }.Uri;

    /// <summary>Through the management API when it answers, else rabbitmqctl on this machine.</summary>
    private static async Task<bool> CreateVirtualHostAsync(Uri broker, string vhost)
    {
        var (user, password) = Credentials(broker);
        try
        {
            using var http = ManagementClient(user, password);
            var api = $"http://{broker.Host}:15672/api";
            var created = await http.PutAsync($"{api}/vhosts/{vhost}", null);
            if (created.IsSuccessStatusCode)
            {
                var permissions = new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json");
                var granted = await http.PutAsync($"{api}/permissions/{vhost}/{Uri.EscapeDataString(user)}", permissions);
                if (granted.IsSuccessStatusCode) return true;
            }
        }
        catch (HttpRequestException) { }
        catch (TaskCanceledException) { }

        var nodeArgs = broker.Port == 5672 ? Array.Empty<string>() : ["-n", $"pgaf{broker.Port}@localhost"];
        var add = await ProcessRunner.RunAsync("rabbitmqctl", [.. nodeArgs, "-q", "add_vhost", vhost], TimeSpan.FromSeconds(30));
        if (add.ExitCode != 0) return false;
        var perm = await ProcessRunner.RunAsync("rabbitmqctl", [.. nodeArgs, "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"], TimeSpan.FromSeconds(30));
        return perm.ExitCode == 0;
    }

    private static async Task DeleteVirtualHostAsync(Uri broker, string vhost)
    {
        var (user, password) = Credentials(broker);
        try
        {
            using var http = ManagementClient(user, password);
            var deleted = await http.DeleteAsync($"http://{broker.Host}:15672/api/vhosts/{vhost}");
            if (deleted.IsSuccessStatusCode) return;
        }
        catch (HttpRequestException) { }
        catch (TaskCanceledException) { }
        await ProcessRunner.RunAsync("rabbitmqctl", ["-q", "delete_vhost", vhost], TimeSpan.FromSeconds(30));
    }

    private static HttpClient ManagementClient(string user, string password)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }

    private static (string User, string Password) Credentials(Uri broker)
    {
        var parts = Uri.UnescapeDataString(broker.UserInfo).Split(':', 2);
        return parts.Length == 2 && parts[0].Length > 0 ? (parts[0], parts[1]) : ("guest", "guest");
    }

    public async Task DisposeAsync()
    {
        if (Mode == "external")
        {
            foreach (var vhost in _virtualHosts) await DeleteVirtualHostAsync(_brokerUri!, vhost);
        }
        if (_container is not null) await _container.DisposeAsync();
        if (_node is not null) await _node.DisposeAsync();
    }
}
