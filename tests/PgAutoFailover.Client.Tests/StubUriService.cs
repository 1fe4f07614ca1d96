using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace PgAutoFailover.Client.Tests;

/// <summary>
/// The uri-service's two calls the client makes, in memory: GET …/uri answers <see cref="Current"/>; each GET
/// …/uri/watch opens a stream the test writes events into (<see cref="SendAsync(PgAutoFailover.Client.UriServiceAnswer)"/>) or breaks (<see cref="BreakWatchAsync"/>).
/// <see cref="Down"/> refuses every call as a stopped service would.
/// </summary>
internal sealed class StubUriService : HttpMessageHandler
{
    private readonly Channel<Pipe> _watches = Channel.CreateUnbounded<Pipe>();
    private Pipe? _watch;

    public UriServiceAnswer Current { get; set; } = Answer(1, "node1", "h1:1", "h2:2");
    public bool Down { get; set; }
    public int WatchesOpened { get; private set; }

    public static UriServiceAnswer Answer(long version, string? primary, params string[] hosts) =>
        new("default", "read-write", $"postgres://{string.Join(',', hosts)}/postgres?target_session_attrs=read-write",
            primary is null ? null : new PrimaryNode(long.Parse(primary[^1..]), primary, 0, "h" + primary[^1..], int.Parse(primary[^1..])), version);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Down) throw new HttpRequestException("Connection refused (127.0.0.1:7103)");
        var path = request.RequestUri!.AbsolutePath;
        if (path.EndsWith("/uri/watch", StringComparison.Ordinal))
        {
            var pipe = new Pipe();
            WatchesOpened++;
            _watches.Writer.TryWrite(pipe);
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(pipe.Reader.AsStream()) };
            return Task.FromResult(response);
        }
        if (path.EndsWith("/uri", StringComparison.Ordinal))
        {
            var json = JsonSerializer.Serialize(Current, new JsonSerializerOptions(JsonSerializerDefaults.Web));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
        }
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("{\"error\":\"no such path\"}") });
    }

    /// <summary>Waits for the client's next watch stream and writes one "uri" event into it.</summary>
    public async Task SendAsync(UriServiceAnswer answer)
    {
        _watch ??= await _watches.Reader.ReadAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        var json = JsonSerializer.Serialize(answer, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        await _watch.Writer.WriteAsync(Encoding.UTF8.GetBytes($"event: uri\nid: {answer.Version}\ndata: {json}\n\n"));
    }

    /// <summary>Ends the current watch stream with an error, as a dropped connection would.</summary>
    public async Task BreakWatchAsync()
    {
        _watch ??= await _watches.Reader.ReadAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        await _watch.Writer.CompleteAsync(new IOException("connection reset by peer"));
        _watch = null;
    }
}
