using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PgAutoFailover.Contracts;

/// <summary>
/// The wire name of each member of an enum, read once from its <see cref="JsonStringEnumMemberNameAttribute"/>s (the
/// names declared on <see cref="NodeState"/> and <see cref="NodeHealth"/>): a table from the declarations, without
/// asking the reflection-based serializer, which costs a short-lived process (pgaf) tens of milliseconds of JIT.
/// </summary>
public static class WireNames<T> where T : struct, Enum
{
    private static readonly (T Value, string Name)[] Members =
        typeof(T).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => ((T)f.GetValue(null)!, f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name))
            .ToArray();

    /// <summary>The wire name of <paramref name="value"/>; an undeclared value prints its lower-cased member name.</summary>
    public static string Of(T value)
    {
        foreach (var (v, name) in Members)
        {
            if (EqualityComparer<T>.Default.Equals(v, value)) return name;
        }
        return value.ToString().ToLowerInvariant();
    }

    /// <summary>The member whose wire name is exactly <paramref name="name"/>.</summary>
    public static bool TryParse(string? name, out T value)
    {
        foreach (var (v, n) in Members)
        {
            if (n == name) { value = v; return true; }
        }
        value = default;
        return false;
    }
}

/// <summary>JSON by <see cref="WireNames{T}"/>: the same text as the JsonStringEnumConverter declared on the type.</summary>
public sealed class WireNameConverter<T> : JsonConverter<T> where T : struct, Enum
{
    /// <inheritdoc />
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && WireNames<T>.TryParse(reader.GetString(), out var value)
            ? value
            : throw new JsonException($"not a {typeof(T).Name}: {(reader.TokenType == JsonTokenType.String ? reader.GetString() : reader.TokenType.ToString())}");

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(WireNames<T>.Of(value));
}
