using System.Collections.Concurrent;
using System.IO.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PgAutoFailover.Testing.Otlp;

/// <summary>
/// An OTLP/HTTP receiver on a free loopback port, standing in for a collector: the services export to it as they would
/// to any (OTEL_EXPORTER_OTLP_ENDPOINT, protocol http/protobuf), it keeps the spans and answers every export with
/// success; logs and metrics are accepted and dropped. <see cref="Environment"/> is what a process needs to export here.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<OtlpSpan> _spans = new();

    private OtlpReceiver(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public IReadOnlyCollection<OtlpSpan> Spans => _spans.ToArray();

    /// <summary>Export here, in batches sent every 200 ms (not the 5 s default), so a test sees its spans soon.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{Port}",
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "1000",
    };

    public static async Task<OtlpReceiver> StartAsync()
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var receiver = new OtlpReceiver(app, port);
        app.MapPost("/v1/traces", receiver.ReceiveTracesAsync);
        app.MapPost("/v1/{signal}", () => Results.Bytes([], "application/x-protobuf"));
        await app.StartAsync();
        return receiver;
    }

    private async Task<IResult> ReceiveTracesAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        if (request.Headers.ContentEncoding.ToString() == "gzip")
        {
            await using var unzipped = new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
            await unzipped.CopyToAsync(body);
        }
        else
        {
            await request.Body.CopyToAsync(body);
        }
        foreach (var span in OtlpSpan.Parse(body.ToArray())) _spans.Enqueue(span);
        // An empty ExportTraceServiceResponse: everything accepted.
        return Results.Bytes([], "application/x-protobuf");
    }

    /// <summary>Every span of <paramref name="traceId"/>.</summary>
    public IReadOnlyList<OtlpSpan> Trace(string traceId) => _spans.Where(s => s.TraceId == traceId).ToList();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
