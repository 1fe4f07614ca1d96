using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>set node metadata --json: the node's name and address as the monitor now holds them, and its answer.</summary>
public static class MetadataView
{
    /// <summary>
    /// The row of the request's node in <paramref name="state"/> (read after the update); the requested
    /// values stand in only if the node is no longer listed.
    /// </summary>
    public static MetadataJson Json(UpdateNodeMetadata request, FormationState state, string message)
    {
        var node = state.Nodes.FirstOrDefault(n => n.Node.NodeId == request.NodeId)?.Node;
        return new MetadataJson(request.Formation, request.NodeId, node?.NodeName ?? request.Name, node?.Host ?? request.Host,
            node?.Port ?? request.Port, message);
    }
}

/// <summary>JSON object of set node metadata; the names follow show state's JSON (nodename, nodehost, nodeport).</summary>
public sealed record MetadataJson(string Formation, long NodeId, string? Nodename, string? Nodehost, int? Nodeport, string Message) : IJsonRow
{
    /// <inheritdoc />
    public void WriteTo(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.Text("formation", Formation);
        writer.Number("node_id", NodeId);
        writer.Text("nodename", Nodename);
        writer.Text("nodehost", Nodehost);
        writer.Number("nodeport", Nodeport);
        writer.Text("message", Message);
        writer.WriteEndObject();
    }
}
