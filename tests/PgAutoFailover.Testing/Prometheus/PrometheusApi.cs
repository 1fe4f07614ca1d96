using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace PgAutoFailover.Testing.Prometheus;

/// <summary>The parts of a Prometheus server's HTTP API (/api/v1) the tests read, as an on-call's tools read them.</summary>
public sealed class PrometheusApi(Uri address) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>/-/ready answers 200 (the rules and the storage are loaded).</summary>
    public async Task<bool> ReadyAsync() => (await _http.GetAsync("-/ready")).IsSuccessStatusCode;

    /// <summary>The instant vector of <paramref name="query"/>: each series' labels and value.</summary>
    public async Task<IReadOnlyList<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string query)
    {
        var body = await _http.GetFromJsonAsync<JsonElement>($"api/v1/query?query={Uri.EscapeDataString(query)}");
        return [.. body.GetProperty("data").GetProperty("result").EnumerateArray().Select(series => (
            series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
            double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))];
    }

    /// <summary>The alerts Prometheus holds now (/api/v1/alerts): name, state (pending or firing) and labels.</summary>
    public async Task<IReadOnlyList<(string Name, string State, Dictionary<string, string> Labels)>> AlertsAsync()
    {
        var body = await _http.GetFromJsonAsync<JsonElement>("api/v1/alerts");
        return [.. body.GetProperty("data").GetProperty("alerts").EnumerateArray().Select(alert =>
        {
            var labels = alert.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
            return (labels["alertname"], alert.GetProperty("state").GetString() ?? "", labels);
        })];
    }

    /// <summary>True when an alert named <paramref name="name"/> is firing.</summary>
    public async Task<bool> FiringAsync(string name) => (await AlertsAsync()).Any(a => a.Name == name && a.State == "firing");

    public void Dispose() => _http.Dispose();
}
