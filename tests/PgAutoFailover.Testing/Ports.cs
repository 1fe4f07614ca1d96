using System.Net;
using System.Net.Sockets;

namespace PgAutoFailover.Testing;

/// <summary>Hands out loopback ports that are free now and not handed out before in this process.</summary>
public static class Ports
{
    private static readonly object Gate = new();
    private static readonly HashSet<int> Given = [];
    // Below the kernel's ephemeral range (ip_local_port_range, 32768-60999 here): a port handed out there can be
    // taken by some outgoing connection's local end while its service is down, and a restart on it then fails with
    // "address already in use" (seen in the end-to-end tests when a crashed keeper restarted on its HTTP port).
    private static readonly int Low = 10000;
    private static readonly int High = EphemeralLow() is { } low && low - 1 > Low + 2000 ? Math.Min(45000, low - 1) : 45000;
    // Start each process at a different place, so that parallel test processes rarely collide.
    private static int _next = Low + Random.Shared.Next(0, High - Low);

    private static int? EphemeralLow()
    {
        try
        {
            var first = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return int.TryParse(first, out var low) ? low : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    public static int Free()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 2000; attempt++)
            {
                var port = _next++;
                if (_next > High) _next = Low;
                if (Given.Contains(port) || !IsFree(port)) continue;
                Given.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException("no free loopback port found");
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Whether <paramref name="host"/> accepts a TCP connection on <paramref name="port"/> within a second.</summary>
    public static async Task<bool> AcceptsAsync(string host, int port)
    {
        try
        {
            using var client = new TcpClient();
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Parse(host), port, patience.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    public static async Task<bool> AcceptsAsync(int port, CancellationToken cancellationToken = default)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static async Task WaitUntilAcceptingAsync(int port, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await AcceptsAsync(port)) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{what} did not accept connections on port {port} within {timeout}");
    }
}
