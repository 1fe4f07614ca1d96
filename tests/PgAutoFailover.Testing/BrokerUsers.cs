using System.Net.Http.Headers;
using System.Text;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.Testing;

/// <summary>
/// The per-service broker users of scripts/broker/definitions.sh in one virtual host, as cluster.sh and compose make
/// them: "&lt;vhost&gt;-monitor", "-health-checker", "-uri-service", "-keeper", "-operator" and "-events", each with the URL its
/// service connects with. Imported as the broker's administrator whose URL is given (the fixture's guest);
/// disposing deletes the users (the virtual host goes with its fixture).
/// </summary>
public sealed class BrokerUsers : IAsyncDisposable
{
    public static readonly string[] Services = ["monitor", "health-checker", "uri-service", "keeper", "operator", "events"];
    private readonly Uri _admin;
    private readonly string _folder;
    private readonly string _vhost;

    private BrokerUsers(Uri admin, string folder, string vhost)
    {
        _admin = admin;
        _folder = folder;
        _vhost = vhost;
    }

    /// <summary>The AMQP URL <paramref name="service"/> (one of <see cref="Services"/>) connects with.</summary>
    public Uri Url(string service) => new(UrlText(service));

    /// <summary>The URL as written, which may name a cluster's nodes (a host list no <see cref="Uri"/> holds).</summary>
    public string UrlText(string service) => File.ReadAllText(Path.Combine(_folder, service + ".url")).Trim();

    /// <summary>"&lt;vhost&gt;-&lt;service&gt;"; in the default virtual host "/", "pgaf-&lt;service&gt;" as compose names them.</summary>
    public string UserName(string service) => Prefix(_vhost) + service;

    private static string Prefix(string vhost) => vhost == "/" ? "pgaf-" : vhost + "-";

    /// <param name="admin">An administrator's URL of the virtual host to make the users in.</param>
    /// <param name="hosts">A cluster's nodes (host:port,host:port...) for the services' URLs; default: the admin URL's host.</param>
    public static async Task<BrokerUsers> CreateAsync(Uri admin, string? hosts = null)
    {
        var vhost = Uri.UnescapeDataString(admin.AbsolutePath.TrimStart('/'));
        if (vhost.Length == 0) vhost = "/";
        var folder = Path.Combine(Path.GetTempPath(), "pgaf-test", $"broker-{Guid.NewGuid():N}"[..15]);
        Directory.CreateDirectory(folder);
        var users = new BrokerUsers(admin, folder, vhost);
        var script = Path.Combine(ServiceProcess.RepositoryRoot, "scripts", "broker", "definitions.sh");
        var made = await ProcessRunner.RunAsync("bash", [script, "--vhost", vhost, "--user-prefix", Prefix(vhost), "--secrets", folder,
            "--url-base", $"{(admin.Scheme == "amqps" ? "amqps" : "amqp")}://{hosts ?? $"{admin.Host}:{admin.Port}"}"], TimeSpan.FromSeconds(30));
        if (made.ExitCode != 0) throw new InvalidOperationException($"definitions.sh failed: {made.StandardError}");
        var definitions = Path.Combine(folder, "definitions.json");
        await File.WriteAllTextAsync(definitions, made.StandardOutput);
        await users.ImportAsync(definitions);
        return users;
    }

    private async Task ImportAsync(string definitions)
    {
        if (NodeArguments.Length == 0 && await ApiAsync(HttpMethod.Post, "definitions", await File.ReadAllTextAsync(definitions))) return;
        var run = await ProcessRunner.RunAsync("rabbitmqctl", [.. NodeArguments, "-q", "import_definitions", definitions], TimeSpan.FromSeconds(60));
        if (run.ExitCode != 0) throw new InvalidOperationException($"rabbitmqctl import_definitions failed: {run.StandardError}");
    }

    /// <summary>rabbitmqctl's node: the machine's broker, or the fixture's private node (<see cref="LocalRabbitNode"/>).</summary>
    private string[] NodeArguments => _admin.Port == 5672 ? [] : ["-n", $"pgaf{_admin.Port}@localhost"];

    /// <summary>The management API of the machine's broker; false when it does not answer, or refuses.</summary>
    private async Task<bool> ApiAsync(HttpMethod method, string path, string? json)
    {
        var parts = Uri.UnescapeDataString(_admin.UserInfo).Split(':', 2);
        var (user, password) = parts.Length == 2 && parts[0].Length > 0 ? (parts[0], parts[1]) : ("guest", "guest");
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
            using var request = new HttpRequestMessage(method, $"http://{_admin.Host}:15672/api/{path}");
            if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            using var response = await http.SendAsync(request);
            return response.IsSuccessStatusCode || (method == HttpMethod.Delete && response.StatusCode == System.Net.HttpStatusCode.NotFound);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in Services)
        {
            var name = UserName(service);
            if (NodeArguments.Length == 0 && await ApiAsync(HttpMethod.Delete, $"users/{Uri.EscapeDataString(name)}", null)) continue;
            await ProcessRunner.RunAsync("rabbitmqctl", [.. NodeArguments, "-q", "delete_user", name], TimeSpan.FromSeconds(30));
        }
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
