using System.Text.Json;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>show uri (docs/operations.md): Type | Name | Connection String, and reading the uri-service's answer.</summary>
public static class UriView
{
    public static readonly IReadOnlyList<TextColumn> Columns =
    [
        new("Type"),
        new("Name"),
        new("Connection String", LeftAligned: true),
    ];

    public static string Render(string formation, string uri) =>
        TextTable.Render(Columns, [["formation", formation, uri]]);

    public static IReadOnlyList<UriJsonRow> Json(string formation, string uri) => [new UriJsonRow(uri, formation, "formation")];

    /// <summary>
    /// The connection string in a uri-service answer, read tolerantly: a JSON object with a string property
    /// "uri" or "connectionString" (any case), else the plain text body. Null when there is none.
    /// </summary>
    public static string? ParseAnswer(string body)
    {
        var text = body.Trim();
        if (text.Length == 0) return null;
        if (text.StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                foreach (var name in new[] { "uri", "connectionString", "connection_string" })
                {
                    foreach (var property in document.RootElement.EnumerateObject())
                    {
                        if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase)
                            && property.Value.ValueKind == JsonValueKind.String
                            && !string.IsNullOrWhiteSpace(property.Value.GetString()))
                        {
                            return property.Value.GetString()!.Trim();
                        }
                    }
                }
                return null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
        if (text.StartsWith('[') || text.StartsWith('<')) return null;
        var firstLine = text.Split('\n')[0].Trim();
        return firstLine.Length == 0 ? null : firstLine;
    }

    /// <summary>The "error" text of a uri-service error body, if it has one.</summary>
    public static string? ParseError(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if ((string.Equals(property.Name, "error", StringComparison.OrdinalIgnoreCase)
                         || string.Equals(property.Name, "detail", StringComparison.OrdinalIgnoreCase)
                         || string.Equals(property.Name, "title", StringComparison.OrdinalIgnoreCase))
                        && property.Value.ValueKind == JsonValueKind.String)
                    {
                        return property.Value.GetString();
                    }
                }
            }
        }
        catch (JsonException) { }
        var text = body.Trim();
        return text.Length is > 0 and <= 200 && !text.Contains('\n') ? text : null;
    }
}

public sealed record UriJsonRow(string Uri, string Name, string Type) : IJsonRow
{
    /// <inheritdoc />
    public void WriteTo(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.Text("uri", Uri);
        writer.Text("name", Name);
        writer.Text("type", Type);
        writer.WriteEndObject();
    }
}
