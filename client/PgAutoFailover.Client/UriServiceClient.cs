using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace PgAutoFailover.Client;

/// <summary>
/// The uri-service's HTTP API for one formation: its current answer, and its watch stream (server-sent events, one
/// "uri" event whenever the URI or the primary changes, comment lines as heartbeats).
/// </summary>
public sealed class UriServiceClient(HttpClient http, Uri baseAddress, string formation, string target = "read-write")
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private Uri Address(string path) =>
        new(baseAddress, $"formations/{Uri.EscapeDataString(formation)}/{path}?target={Uri.EscapeDataString(target)}");

    /// <summary>GET /formations/{formation}/uri.</summary>
    public async Task<UriServiceAnswer> GetAsync(CancellationToken cancellation)
    {
        using var response = await http.GetAsync(Address("uri"), cancellation);
        await EnsureSuccessAsync(response, cancellation);
        return await response.Content.ReadFromJsonAsync<UriServiceAnswer>(Json, cancellation)
            ?? throw new InvalidDataException("the uri-service answered an empty body");
    }

    /// <summary>The answers of GET /formations/{formation}/uri/watch as they come; ends when the server closes the stream.</summary>
    public async IAsyncEnumerable<UriServiceAnswer> WatchAsync([EnumeratorCancellation] CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Address("uri/watch"));
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        await EnsureSuccessAsync(response, cancellation);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await foreach (var data in ServerSentEvents.ReadAsync(reader, "uri", cancellation))
        {
            var answer = JsonSerializer.Deserialize<UriServiceAnswer>(data, Json);
            if (answer is not null) yield return answer;
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellation)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(cancellation);
        string? error = null;
        try { error = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString(); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { }
        throw new HttpRequestException($"the uri-service answered {(int)response.StatusCode}: {error ?? body.Trim()}", null, response.StatusCode);
    }
}

/// <summary>The text/event-stream format: events are blocks of "field: value" lines ended by a blank line.</summary>
internal static class ServerSentEvents
{
    /// <summary>The data of each event named <paramref name="eventName"/> (multi-line data joined with '\n').</summary>
    public static async IAsyncEnumerable<string> ReadAsync(TextReader reader, string eventName, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var name = "message";
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellation) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0 && name == eventName) yield return data.ToString();
                name = "message";
                data.Clear();
                continue;
            }
            if (line[0] == ':') continue; // a comment: the heartbeat
            var colon = line.IndexOf(':');
            var field = colon >= 0 ? line[..colon] : line;
            var value = colon >= 0 ? line[(colon + 1)..] : "";
            if (value.StartsWith(' ')) value = value[1..];
            switch (field)
            {
                case "event": name = value; break;
                case "data":
                    if (data.Length > 0) data.Append('\n');
                    data.Append(value);
                    break;
                default: break; // id, retry: not needed, the answer carries its version
            }
        }
    }
}
