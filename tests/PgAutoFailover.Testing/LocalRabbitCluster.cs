using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.Testing;

/// <summary>
/// A RabbitMQ cluster of three nodes on loopback, started with the script cluster.sh uses (scripts/broker/local-cluster.sh):
/// each node its own name, port and data folder. A test may SIGKILL a node and start it again.
/// </summary>
public sealed class LocalRabbitCluster : IAsyncDisposable
{
    private readonly string _directory;
    private readonly HashSet<int> _killed = [];

    private LocalRabbitCluster(string directory, string hosts)
    {
        _directory = directory;
        Hosts = hosts;
    }

    /// <summary>The nodes as a broker URL's host list: 127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3.</summary>
    public string Hosts { get; }

    /// <summary>The administrator (guest) on the default virtual host of the first node alone: for rabbitmqctl and the definitions.</summary>
    public Uri FirstNode => new($"amqp://guest:guest@{Hosts.Split(',')[0]}/");

    /// <summary>The administrator's URL with every node, as clients are given it (docs/operations.md#a-broker-cluster).</summary>
    public string Url => $"amqp://guest:guest@{Hosts}/";

    private static string Script => Path.Combine(ServiceProcess.RepositoryRoot, "scripts", "broker", "local-cluster.sh");

    public static async Task<LocalRabbitCluster> StartAsync(int nodes = 3)
    {
        if (!LocalRabbitNode.Available) throw new InvalidOperationException("rabbitmq-server is not installed: apt-get install rabbitmq-server");
        int port;
        do { port = Random.Shared.Next(20000, 40000); }
        while (!Enumerable.Range(port, nodes).All(p => Ports.IsFree(p) && Ports.IsFree(p + 20000)));
        var directory = Path.Combine(Path.GetTempPath(), "pgaf-test", $"rmq-cluster-{port}");
        var started = await ProcessRunner.RunAsync("bash", [Script, "start", directory, "--nodes", nodes.ToString(), "--port", port.ToString()],
            TimeSpan.FromMinutes(4));
        if (started.ExitCode != 0)
        {
            await ProcessRunner.RunAsync("bash", [Script, "stop", directory], TimeSpan.FromMinutes(1));
            throw new InvalidOperationException($"local-cluster.sh start failed: {started.Combined}");
        }
        return new LocalRabbitCluster(directory, started.StandardOutput.Trim());
    }

    /// <summary>SIGKILL node <paramref name="node"/> (1-based) and wait until it is gone.</summary>
    public async Task KillAsync(int node)
    {
        lock (_killed) _killed.Add(node);
        await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("bash", [Script, "kill", _directory, node.ToString()], TimeSpan.FromMinutes(1)),
            "kill a broker node");
    }

    /// <summary>Start node <paramref name="node"/> again: it rejoins the cluster.</summary>
    public async Task StartNodeAsync(int node)
    {
        await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("bash", [Script, "start-node", _directory, node.ToString()], TimeSpan.FromMinutes(3)),
            "start a broker node");
        lock (_killed) _killed.Remove(node);
    }

    /// <summary>Start again every node a test killed and left down, for the next test on the same cluster.</summary>
    public async Task StartKilledNodesAsync()
    {
        int[] killed;
        lock (_killed) killed = [.. _killed.Order()];
        foreach (var node in killed) await StartNodeAsync(node);
    }

    /// <summary>Who is connected to node <paramref name="node"/>: broker user, client port and state of each connection.</summary>
    public async Task<string> ConnectionsAsync(int node) =>
        (await ProcessRunner.RunAsync("bash", [Script, "ctl", _directory, node.ToString(), "list_connections", "user", "peer_port", "state"],
            TimeSpan.FromSeconds(30))).Combined.Trim();

    public async ValueTask DisposeAsync()
    {
        await ProcessRunner.RunAsync("bash", [Script, "stop", _directory], TimeSpan.FromMinutes(2));
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
