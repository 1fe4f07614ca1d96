using System.Text.Json.Serialization;

namespace PgAutoFailover.Contracts;

/// <summary>The monitor's verdict on a node's health, from probes and keeper reports.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NodeHealth>))]
public enum NodeHealth
{
    /// <summary>Not probed yet.</summary>
    [JsonStringEnumMemberName("unknown")] Unknown = 0,
    /// <summary>Probes succeed or the keeper reports recently.</summary>
    [JsonStringEnumMemberName("good")] Good,
    /// <summary>Probes fail and the keeper is silent.</summary>
    [JsonStringEnumMemberName("bad")] Bad,
}
