using System.Net;
using System.Net.Sockets;

namespace PgAutoFailover.Testing;

/// <summary>
/// A loopback TCP relay to one server that can cut its connections the way a dying peer does: armed with
/// <see cref="ResetOnNextClientBytes"/>, the next bytes a client sends are not passed on, and both ends of that
/// connection are reset (RST, "connection reset by peer"), while the client still believes it open.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _accepting;
    private int _resetArmed;

    private TcpRelay(string host, int port)
    {
        _host = host;
        _port = port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The loopback port the relay listens on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many connections the relay has reset so far.</summary>
    public int Resets => Volatile.Read(ref _resets);
    private int _resets;

    public static TcpRelay Start(string host, int port) => new(host, port);

    /// <summary>Resets the connection whose client sends next, before its bytes reach the server.</summary>
    public void ResetOnNextClientBytes() => Interlocked.Exchange(ref _resetArmed, 1);

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await server.ConnectAsync(_host, _port, _stop.Token);
                lock (_sockets) _sockets.AddRange([client, server]);
                _ = PumpAsync(client, server, fromClient: true);
                _ = PumpAsync(server, client, fromClient: false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool fromClient)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0) break;
                if (fromClient && Interlocked.Exchange(ref _resetArmed, 0) == 1)
                {
                    Interlocked.Increment(ref _resets);
                    Reset(from);
                    Reset(to);
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Closes with a zero linger: the kernel sends RST instead of FIN.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_sockets)
        {
            foreach (var socket in _sockets) socket.Dispose();
        }
        _stop.Dispose();
    }
}
