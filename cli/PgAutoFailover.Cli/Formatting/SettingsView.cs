using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>show settings (docs/operations.md): Context | Name | Setting | Value, in the monitor's order.</summary>
public static class SettingsView
{
    public static readonly IReadOnlyList<TextColumn> Columns =
    [
        new("Context"),
        new("Name"),
        new("Setting"),
        new("Value", LeftAligned: true),
    ];

    public static string Render(FormationSettings settings) =>
        TextTable.Render(Columns, settings.Settings.Select(s => (IReadOnlyList<string>)[s.Context, s.Name, s.Setting, s.Value]));

    public static IReadOnlyList<SettingJsonRow> Json(FormationSettings settings) =>
        settings.Settings.Select(s => new SettingJsonRow(s.Context, s.Name, s.Setting, s.Value)).ToList();
}

public sealed record SettingJsonRow(string Context, string Name, string Setting, string Value) : IJsonRow
{
    /// <inheritdoc />
    public void WriteTo(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.Text("context", Context);
        writer.Text("name", Name);
        writer.Text("setting", Setting);
        writer.Text("value", Value);
        writer.WriteEndObject();
    }
}
