using System.Net.Sockets;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>What would keep a node's PostgreSQL from ever starting on this host, found before it is needed.</summary>
public static class ServerPreflight
{
    /// <summary>
    /// Before a node is registered (keeper create): what would keep its PostgreSQL from ever starting, as one line, or
    /// null. A second node's first goal (wait_standby) needs no PostgreSQL, so without this create said "done" and
    /// exited 0 for a node whose port another process holds or whose data directory the PostgreSQL user cannot write.
    /// </summary>
    public static async Task<string?> CannotRunHereAsync(PostgresServer server, KeeperOptions options, CancellationToken cancellationToken)
    {
        if (!server.IsPostmasterAlive() && await PortInUseAsync(options.Host, options.Port))
            return $"port {options.Port} on {options.Host} is in use by another process: this node's PostgreSQL could never listen there (choose another --port)";
        var existing = Directory.Exists(options.PgData);
        var folder = existing ? options.PgData : Path.GetDirectoryName(Path.GetFullPath(options.PgData).TrimEnd('/')) ?? "/";
        var check = await server.Os.RunAsync("test", ["-w", folder, "-a", "-x", folder], TimeSpan.FromSeconds(10), cancellationToken);
        if (check.ExitCode != 0)
        {
            var who = OsCommand.IsRoot ? $"the {server.Os.OsUser} OS user" : "this user";
            return existing
                ? $"{who} cannot write {options.PgData}: PostgreSQL could never use it (fix its owner or permissions)"
                : $"{who} cannot create {options.PgData} in {folder}: PostgreSQL could never use it (choose a folder it can write)";
        }
        return null;
    }

    /// <summary>Some process accepts TCP connections on <paramref name="host"/>:<paramref name="port"/> within a second.</summary>
    public static async Task<bool> PortInUseAsync(string host, int port)
    {
        try
        {
            using var client = new TcpClient();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(host is "localhost" or "" ? "127.0.0.1" : host, port, cts.Token);
            return true;
        }
        catch (SocketException) { return false; }
        catch (OperationCanceledException) { return false; }
    }
}
