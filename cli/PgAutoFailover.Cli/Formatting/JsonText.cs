using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>A --json row or object that writes its own snake_case fields.</summary>
public interface IJsonRow
{
    void WriteTo(Utf8JsonWriter writer);
}

/// <summary>
/// pgaf's --json output, written field by field through <see cref="Utf8JsonWriter"/>: the reflection serializer cost a
/// one-shot call about 0.05 CPU-s of JIT (pollers run `pgaf show state --json` every few hundred milliseconds).
/// Indented, snake_case names, and for terminals and jq rather than HTML: node names and messages keep their quotes
/// as \" and their non-ASCII letters instead of \u0022 escapes. Tests hold the output equal to the serializer's.
/// </summary>
public static class JsonText
{
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Of(IEnumerable<IJsonRow> rows) => Write(writer =>
    {
        writer.WriteStartArray();
        foreach (var row in rows) row.WriteTo(writer);
        writer.WriteEndArray();
    });

    public static string Of(IJsonRow row) => Write(row.WriteTo);

    private static string Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options)) write(writer);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
    }

    public static void Number(this Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } v) writer.WriteNumber(name, v);
        else writer.WriteNull(name);
    }

    public static void Text(this Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }

    public static void Time(this Utf8JsonWriter writer, string name, DateTimeOffset? value)
    {
        if (value is { } v) writer.WriteString(name, v);
        else writer.WriteNull(name);
    }
}
