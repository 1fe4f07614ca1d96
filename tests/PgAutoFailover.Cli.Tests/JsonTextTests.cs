using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using PgAutoFailover.Cli.Formatting;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// --json is written field by field (JsonText) for start-up cost; its text must stay exactly what the serializer
/// wrote with pgaf's options before, for every row type, nulls and escapes included, so scripts see no change.
/// </summary>
public sealed class JsonTextTests
{
    private static readonly JsonSerializerOptions Serializer = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly DateTimeOffset At = new(2026, 12, 3, 14, 26, 21, 356, TimeSpan.Zero);

    private static void Same<T>(IReadOnlyList<T> rows) where T : IJsonRow =>
        Assert.Equal(JsonSerializer.Serialize(rows, Serializer) + "\n", JsonText.Of(rows.Cast<IJsonRow>()));

    [Fact]
    public void State_rows_match_the_serializer_with_and_without_optional_fields()
    {
        Same<StateJsonRow>(
        [
            new("pgsql", "node1", "127.0.0.1", 5501, 0, 1, "primary", "primary", 50, true, 3, "0/3000A28", 1, "default", "default",
                true, At.AddTicks(1234), null, null),
            new("pgsql", "nöde \"2\"", "::1", 5502, 0, 2, "catchingup", "secondary", 0, false, 2, "0/0", -1, "default", "sales",
                false, null, "pg_basebackup failed: <é> & \\", "copying 40 %\n"),
        ]);
        Same<StateJsonRow>([]);
    }

    [Fact]
    public void Event_setting_and_uri_rows_match_the_serializer()
    {
        Same<EventJsonRow>(
        [
            new(7, At, "default", 1, 0, "node1", "primary", "unknown", "New state is reported by node 1: \"primary\""),
            new(8, At.ToOffset(TimeSpan.FromHours(2)), "default", null, 0, null, "unknown", "unknown", "formation created"),
        ]);
        Same<SettingJsonRow>([new("primary", "node1", "synchronous_standby_names", "'ANY 1 (pgautofailover_standby_2)'")]);
        Same<UriJsonRow>([new("postgres://a:1,b:2/postgres?target_session_attrs=read-write", "default", "formation")]);
    }

    [Fact]
    public void The_metadata_object_matches_the_serializer()
    {
        foreach (var value in new[] { new MetadataJson("default", 2, "node2", "10.0.0.2", 5432, "updated"), new MetadataJson("default", 2, null, null, null, "gone") })
        {
            Assert.Equal(JsonSerializer.Serialize(value, Serializer) + "\n", JsonText.Of(value));
        }
    }
}
