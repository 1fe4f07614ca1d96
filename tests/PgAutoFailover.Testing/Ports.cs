using System.Net;
using System.Net.Sockets;

namespace PgAutoFailover.Testing;

/// <summary>Hands out loopback ports that are free now and not handed out before in this process.</summary>
public static class Ports
{
    private static readonly object Gate = new();
    private static readonly HashSet<int> Given = [];
    // Start each process at a different place, so that parallel test processes rarely collide.
    private static int _next = 20000 + Random.Shared.Next(0, 20000);

    public static int Free()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 2000; attempt++)
            {
                var port = _next++;
                if (_next > 45000) _next = 20000;
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
