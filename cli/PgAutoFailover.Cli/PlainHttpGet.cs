using System.Net.Sockets;
using System.Text;

namespace PgAutoFailover.Cli;

/// <summary>
/// One HTTP/1.0 GET over a plain TCP connection: the read-only verbs' whole conversation with the monitor. Measured,
/// HttpClient's start-up (handler pipeline, connection pool, TLS and diagnostics types) cost about 0.06 CPU-s of a
/// call whose target is 0.1 in all; this costs a socket. HTTP/1.0, so the server sends the body unchunked and closes.
/// https:// addresses go through HttpClient (MonitorReader).
/// </summary>
public static class PlainHttpGet
{
    public sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body);

    /// <summary>Body limit: a formation's state or events are kilobytes; anything near this is not our monitor.</summary>
    private const int MaxResponseBytes = 16 * 1024 * 1024;

    public static async Task<Response> GetAsync(Uri uri, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connecting.CancelAfter(connectTimeout);
            await client.ConnectAsync(uri.Host, uri.Port, connecting.Token);
        }
        var stream = client.GetStream();
        var request = $"GET {uri.PathAndQuery} HTTP/1.0\r\nHost: {uri.Authority}\r\nAccept: application/json\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        using var received = new MemoryStream();
        var buffer = new byte[16384];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            received.Write(buffer, 0, read);
            if (received.Length > MaxResponseBytes) throw new HttpRequestException("the answer is too large");
        }
        return Parse(received.ToArray());
    }

    /// <summary>Status line, headers (names lower-cased) and body of a complete HTTP/1.x response.</summary>
    public static Response Parse(byte[] raw)
    {
        var end = raw.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0) throw new HttpRequestException("the answer is not an HTTP response");
        var lines = Encoding.ASCII.GetString(raw, 0, end).Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(status[1], out var code))
            throw new HttpRequestException("the answer is not an HTTP response");
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }
        if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            throw new HttpRequestException("chunked answer to an HTTP/1.0 request");
        return new Response(code, headers, raw[(end + 4)..]);
    }
}
