using System.Globalization;

namespace PgAutoFailover.Testing.Network;

/// <summary>
/// A private network for data nodes whose links a test can cut (issue 13): each node lives in a network namespace of
/// its own, <c>pgaf&lt;k&gt;n&lt;i&gt;</c>, with one interface, <c>eth0</c>, at 10.231.k.(10+i). A switch namespace,
/// <c>pgaf&lt;k&gt;s</c>, holds the bridge every node's link and the root namespace's link plug into, so the root
/// namespace (broker, monitor, health-checker, uri-service, the test) reaches the nodes at 10.231.k.1 without IP
/// forwarding and without the root namespace's firewall (dockerd's FORWARD DROP) on the path between nodes.
/// Faults are nftables rules inside a node's namespace, on its <c>eth0</c> only, so its loopback (keeper to its own
/// PostgreSQL) keeps working. Everything is created here and deleted on dispose; nothing is left on the host.
/// </summary>
public sealed class NetworkLab : IAsyncDisposable
{
    private const string FaultTable = "pgaf_fault";
    private readonly int _k;
    private readonly List<string> _namespaces = [];

    private NetworkLab(int k) => _k = k;

    /// <summary>The root namespace's address on the lab network: where nodes reach the broker and are probed from.</summary>
    public string HostAddress => $"10.231.{_k}.1";

    /// <summary>The lab network, for pg_hba rules.</summary>
    public string Subnet => $"10.231.{_k}.0/24";

    public string Namespace(int node) => $"pgaf{_k}n{node}";

    public string Address(int node) => $"10.231.{_k}.{10 + node}";

    private string SwitchNamespace => $"pgaf{_k}s";

    private string HostLink => $"pgaf{_k}h";

    /// <summary>Creates the switch and <paramref name="nodes"/> node namespaces (1-based numbering).</summary>
    public static async Task<NetworkLab> CreateAsync(int nodes)
    {
        if (!ProcessRunner.IsRoot) throw new InvalidOperationException("network namespaces need root");
        if (!File.Exists("/usr/sbin/nft")) throw new InvalidOperationException("/usr/sbin/nft is missing: install Debian's nftables package (test.sh does)");
        for (var attempt = 1; ; attempt++)
        {
            var lab = new NetworkLab(await FreeLabNumberAsync());
            try
            {
                await lab.BuildAsync(nodes);
                return lab;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // A name left by a run that was killed half-way (a node namespace or link of that number): another number.
                await lab.DisposeAsync();
            }
            catch
            {
                await lab.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>A lab number no other lab on the machine uses (its switch namespace does not exist).</summary>
    private static async Task<int> FreeLabNumberAsync()
    {
        var existing = (await Ip("netns", "list")).StandardOutput;
        var used = existing.Split('\n').Select(l => l.Split(' ')[0]).ToHashSet();
        var candidates = Enumerable.Range(1, 250).Where(k => !used.Contains($"pgaf{k}s")).ToList();
        if (candidates.Count == 0) throw new InvalidOperationException("250 network labs exist already: delete stale pgaf*s namespaces");
        return candidates[Random.Shared.Next(candidates.Count)];
    }

    private async Task BuildAsync(int nodes)
    {
        await Checked(Ip("netns", "add", SwitchNamespace));
        _namespaces.Add(SwitchNamespace);
        await Checked(Ip("-n", SwitchNamespace, "link", "add", "br0", "type", "bridge"));
        await Checked(Ip("-n", SwitchNamespace, "link", "set", "br0", "up"));
        await Checked(Ip("-n", SwitchNamespace, "link", "set", "lo", "up"));
        // The root namespace's link: pgaf<k>h here, h0 on the switch.
        await Checked(Ip("link", "add", HostLink, "type", "veth", "peer", "name", "h0", "netns", SwitchNamespace));
        await Checked(Ip("-n", SwitchNamespace, "link", "set", "h0", "master", "br0", "up"));
        await Checked(Ip("addr", "add", $"{HostAddress}/24", "dev", HostLink));
        await Checked(Ip("link", "set", HostLink, "up"));
        for (var i = 1; i <= nodes; i++)
        {
            var ns = Namespace(i);
            await Checked(Ip("netns", "add", ns));
            _namespaces.Add(ns);
            var port = $"v{i}";
            await Checked(Ip("-n", SwitchNamespace, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns));
            await Checked(Ip("-n", SwitchNamespace, "link", "set", port, "master", "br0", "up"));
            await Checked(Ip("-n", ns, "addr", "add", $"{Address(i)}/24", "dev", "eth0"));
            await Checked(Ip("-n", ns, "link", "set", "lo", "up"));
            await Checked(Ip("-n", ns, "link", "set", "eth0", "up"));
        }
        // Links come up asynchronously: wait until every one says so (the bridge forwards at once, STP being off).
        await WaitUpAsync([], HostLink);
        for (var i = 1; i <= nodes; i++) await WaitUpAsync(["-n", Namespace(i)], "eth0");
    }

    private static Task WaitUpAsync(string[] where, string link) =>
        Eventually.TrueAsync(async () => (await Ip([.. where, "-br", "link", "show", link])).StandardOutput.Contains(" UP ", StringComparison.Ordinal),
            $"link {link} {string.Join(' ', where)} to be up", TimeSpan.FromSeconds(30));

    /// <summary>Node <paramref name="node"/> loses its network: nothing in or out of its eth0 (loopback still works).</summary>
    public Task IsolateAsync(int node) => ApplyAsync(node, """
        iifname "eth0" drop
        """, """
        oifname "eth0" drop
        """);

    /// <summary>
    /// Node <paramref name="node"/> no longer exchanges packets with <paramref name="peers"/> (addresses), both ways,
    /// or, with <paramref name="inboundOnly"/>, only receives nothing from them (a one-way cut).
    /// </summary>
    public Task CutAsync(int node, IReadOnlyCollection<string> peers, bool inboundOnly = false)
    {
        var set = "{ " + string.Join(", ", peers) + " }";
        return ApplyAsync(node, $"iifname \"eth0\" ip saddr {set} drop", inboundOnly ? "" : $"oifname \"eth0\" ip daddr {set} drop");
    }

    /// <summary>Removes every fault of node <paramref name="node"/>.</summary>
    public async Task HealAsync(int node)
    {
        var result = await Nft(Namespace(node), $"delete table inet {FaultTable}\n");
        if (result.ExitCode != 0 && !result.Combined.Contains("No such file or directory", StringComparison.Ordinal))
            throw new InvalidOperationException($"nft in {Namespace(node)}: {result.Combined}");
    }

    private async Task ApplyAsync(int node, string inbound, string outbound)
    {
        await HealAsync(node);
        var rules = $$"""
            table inet {{FaultTable}} {
              chain input { type filter hook input priority 0; policy accept;
                {{inbound}}
              }
              chain output { type filter hook output priority 0; policy accept;
                {{outbound}}
              }
            }

            """;
        var result = await Nft(Namespace(node), rules);
        if (result.ExitCode != 0) throw new InvalidOperationException($"nft in {Namespace(node)}: {result.Combined}\n{rules}");
    }

    private static async Task<ProcessRunner.Result> Nft(string ns, string script)
    {
        var file = Path.Combine(Path.GetTempPath(), $"pgaf-nft-{Guid.NewGuid():N}.nft");
        await File.WriteAllTextAsync(file, script);
        try
        {
            return await ProcessRunner.RunAsync("/usr/sbin/ip", ["netns", "exec", ns, "/usr/sbin/nft", "-f", file], TimeSpan.FromSeconds(20));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static Task<ProcessRunner.Result> Ip(params string[] args) => ProcessRunner.RunAsync("/usr/sbin/ip", args, TimeSpan.FromSeconds(20));

    private static async Task Checked(Task<ProcessRunner.Result> run)
    {
        var result = await run;
        if (result.ExitCode != 0) throw new InvalidOperationException($"ip failed: {result.Combined}");
    }

    /// <summary>Deletes the namespaces (their links go with them) and the root namespace's link.</summary>
    public async ValueTask DisposeAsync()
    {
        await Ip("link", "del", HostLink);
        foreach (var ns in Enumerable.Reverse(_namespaces)) await Ip("netns", "del", ns);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"lab {_k} ({Subnet})");
}
