using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using PgAutoFailover.UriService.Topology;

namespace PgAutoFailover.UriService.Http;

/// <summary>
/// GET /formations/{formation}/uri/watch: server-sent events. The current answer first, then one
/// "uri" event whenever the URI or the primary changes (its id is the topology version), and a
/// comment line every <see cref="UriServiceOptions.WatchHeartbeat"/> while nothing happens.
/// </summary>
public static class WatchEndpoint
{
    public static async Task WatchAsync(
        string formation, string? target, HttpContext http, TopologyView view,
        IOptions<UriServiceOptions> options, IOptions<JsonOptions> json, TimeProvider time)
    {
        var cancellation = http.RequestAborted;
        if (!ConnectionStrings.TryParseTarget(target, out var parsed))
        {
            await UriEndpoints.BadTarget(target).ExecuteAsync(http);
            return;
        }
        // Subscribe before reading the current snapshot, so no change falls between the two.
        using var subscription = view.Watch(formation);
        if (view.Get(formation) is not { } current)
        {
            await UriEndpoints.UnknownFormation(formation).ExecuteAsync(http);
            return;
        }

        var ssl = UriEndpoints.Ssl(options.Value);
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        var last = UriEndpoints.Answer(current, parsed, ssl);
        try
        {
            await SendAsync(http, last, json.Value.SerializerOptions, cancellation);
            while (!cancellation.IsCancellationRequested)
            {
                var next = await NextAsync(subscription, options.Value.WatchHeartbeat, time, cancellation);
                if (next is null)
                {
                    await http.Response.WriteAsync(": keep-alive\n\n", cancellation);
                    await http.Response.Body.FlushAsync(cancellation);
                    continue;
                }
                var answer = UriEndpoints.Answer(next, parsed, ssl);
                if (answer.Uri == last.Uri && answer.Primary == last.Primary) continue;
                last = answer;
                await SendAsync(http, answer, json.Value.SerializerOptions, cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    /// <summary>The next applied snapshot, or null when the heartbeat period passed first.</summary>
    private static async Task<Contracts.FormationTopologyChanged?> NextAsync(
        TopologyView.Subscription subscription, TimeSpan heartbeat, TimeProvider time, CancellationToken cancellation)
    {
        if (subscription.Reader.TryRead(out var ready)) return ready;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        wait.CancelAfter(heartbeat);
        try
        {
            return await subscription.Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return null;
        }
    }

    private static async Task SendAsync(HttpContext http, UriAnswer answer, JsonSerializerOptions json, CancellationToken cancellation)
    {
        var data = JsonSerializer.Serialize(answer, json);
        await http.Response.WriteAsync($"event: uri\nid: {answer.Version}\ndata: {data}\n\n", cancellation);
        await http.Response.Body.FlushAsync(cancellation);
    }
}
