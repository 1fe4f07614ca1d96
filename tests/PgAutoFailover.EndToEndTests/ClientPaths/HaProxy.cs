using PgAutoFailover.Testing;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.EndToEndTests.ClientPaths;

/// <summary>Debian's HAProxy running the shipped examples/haproxy/haproxy.cfg, its ports and addresses set through the environment.</summary>
internal sealed class HaProxy : IAsyncDisposable
{
    private readonly BackgroundProcess _process;

    private HaProxy(BackgroundProcess process, int readWritePort, int readOnlyPort)
    {
        _process = process;
        ReadWritePort = readWritePort;
        ReadOnlyPort = readOnlyPort;
    }

    public int ReadWritePort { get; }
    public int ReadOnlyPort { get; }
    public string Tail() => _process.Tail();

    public static async Task<HaProxy> StartAsync(ProcessCluster cluster)
    {
        var config = Path.Combine(ServiceProcess.RepositoryRoot, "examples", "haproxy", "haproxy.cfg");
        int rw = Ports.Free(), ro = Ports.Free();
        var environment = new Dictionary<string, string>
        {
            ["PGAF_FORMATION"] = ProcessCluster.Formation,
            ["PGAF_URI_SERVICE_HOST"] = "127.0.0.1",
            ["PGAF_URI_SERVICE_PORT"] = cluster.UriServiceHttpPort.ToString(),
            ["PGAF_RW_PORT"] = rw.ToString(),
            ["PGAF_RO_PORT"] = ro.ToString(),
        };
        for (var i = 1; i <= 3; i++)
        {
            // A node the cluster does not have gets a port nothing listens on; its check answers 404, so it stays down.
            var node = cluster.Nodes.FirstOrDefault(n => n.Name == $"node{i}");
            environment[$"PGAF_NODE{i}"] = $"127.0.0.1:{node?.Port ?? Ports.Free()}";
        }
        var process = BackgroundProcess.Start("haproxy", ["-db", "-f", config], Path.Combine(cluster.BaseDirectory, "haproxy.log"), environment);
        await Ports.WaitUntilAcceptingAsync(rw, TimeSpan.FromSeconds(30), "HAProxy's read-write port");
        return new HaProxy(process, rw, ro);
    }

    public string ConnectionString(int port) =>
        $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=2;Command Timeout=5";

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
