using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PgAutoFailover.Cli;

/// <summary>
/// One GET, the read-only verbs' whole conversation with the monitor or the uri-service. Plain http:// is an
/// HTTP/1.0 request over a blocking socket: measured, HttpClient's start-up (handler pipeline, connection pool, TLS
/// and diagnostics types) cost about 0.06 CPU-s of a call whose target is 0.1 in all. HTTP/1.0, so the server sends
/// the body unchunked and closes. https:// goes through HttpClient.
/// </summary>
public static class ReadOnlyHttp
{
    public sealed record Response(int Status, string Reason, IReadOnlyDictionary<string, string> Headers, byte[] Body);

    /// <summary>Body limit: a formation's state or events are kilobytes; anything near this is not our monitor.</summary>
    private const int MaxResponseBytes = 16 * 1024 * 1024;

    /// <summary>
    /// The answer to GET <paramref name="uri"/>: connecting may take <paramref name="connectTimeout"/> (a silent port
    /// must fall back quickly), the answer <paramref name="answerTimeout"/> (a busy server may be slow to answer).
    /// </summary>
    public static Task<Response> GetAsync(Uri uri, TimeSpan connectTimeout, TimeSpan answerTimeout, CancellationToken cancellationToken) =>
        uri.Scheme == Uri.UriSchemeHttp
            ? PlainGet(uri, connectTimeout, answerTimeout, cancellationToken)
            : ThroughHttpClientAsync(uri, connectTimeout, cancellationToken);

    /// <summary>
    /// Over HttpClient, whose failures come out as IOException like the plain path's: callers that name no
    /// System.Net.Http type do not load that assembly (and its diagnostics) on every plain call.
    /// </summary>
    private static async Task<Response> ThroughHttpClientAsync(Uri uri, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        try
        {
            return await SendThroughHttpClientAsync(uri, connectTimeout, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    private static async Task<Response> SendThroughHttpClientAsync(Uri uri, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = connectTimeout, UseProxy = false }) { Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await http.SendAsync(request, cancellationToken);
        var headers = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(", ", h.Value), StringComparer.Ordinal);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new Response((int)response.StatusCode, response.ReasonPhrase ?? "", headers, body);
    }

    /// <summary>
    /// Blocking socket calls on the caller's thread: the asynchronous path (socket engine thread, state machines
    /// instantiated over our types, none of it precompiled) cost a one-shot CLI more CPU than the exchange itself.
    /// SO_SNDTIMEO bounds a blocking connect on Linux; then the send and receive timeouts bound the exchange;
    /// cancelling closes the socket under a blocked call.
    /// </summary>
    private static Task<Response> PlainGet(Uri uri, TimeSpan connectTimeout, TimeSpan answerTimeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var socket = Connect(uri, connectTimeout);
        socket.SendTimeout = socket.ReceiveTimeout = (int)answerTimeout.TotalMilliseconds;
        using var closeOnCancel = cancellationToken.Register(socket.Dispose);
        try
        {
            var request = Encoding.ASCII.GetBytes($"GET {uri.PathAndQuery} HTTP/1.0\r\nHost: {uri.Authority}\r\nAccept: application/json\r\n\r\n");
            for (var sent = 0; sent < request.Length;) sent += socket.Send(request, sent, request.Length - sent, SocketFlags.None);
            using var received = new MemoryStream();
            var buffer = new byte[16384];
            int read;
            while ((read = socket.Receive(buffer)) > 0)
            {
                received.Write(buffer, 0, read);
                if (received.Length > MaxResponseBytes) throw new InvalidDataException("the answer is too large");
            }
            return Task.FromResult(Parse(received.ToArray()));
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is SocketException or ObjectDisposedException)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>A connected socket to the first of the host's addresses that accepts.</summary>
    private static Socket Connect(Uri uri, TimeSpan timeout)
    {
        var addresses = IPAddress.TryParse(uri.Host.Trim('[', ']'), out var literal) ? [literal] : Dns.GetHostAddresses(uri.Host);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            // One socket per address family: a dual-mode socket would make every address an IPv4-mapped IPv6 one.
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.SendTimeout = (int)timeout.TotalMilliseconds;
            try
            {
                socket.Connect(address, uri.Port);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Status line, headers (names lower-cased) and body of a complete HTTP/1.x response.</summary>
    public static Response Parse(byte[] raw)
    {
        var end = raw.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0) throw new InvalidDataException("the answer is not an HTTP response");
        var lines = Encoding.ASCII.GetString(raw, 0, end).Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(status[1], out var code))
            throw new InvalidDataException("the answer is not an HTTP response");
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon > 0) headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }
        if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException("chunked answer to an HTTP/1.0 request");
        return new Response(code, status.Length > 2 ? status[2] : "", headers, raw[(end + 4)..]);
    }
}
