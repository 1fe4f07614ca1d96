using System.Text.Json;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Tests;

/// <summary>The table-driven names and converter say exactly what the JsonStringEnumConverter declared on the enums says.</summary>
public sealed class WireNamesTests
{
    private static readonly JsonSerializerOptions ByTable = new() { Converters = { new WireNameConverter<NodeState>(), new WireNameConverter<NodeHealth>() } };

    [Fact]
    public void Every_state_has_the_wire_name_the_serializer_writes_and_reads_back()
    {
        foreach (var state in Enum.GetValues<NodeState>())
        {
            var declared = JsonSerializer.Serialize(state);
            Assert.Equal(declared.Trim('"'), NodeStateNames.Of(state));
            Assert.Equal(declared, JsonSerializer.Serialize(state, ByTable));
            Assert.Equal(state, JsonSerializer.Deserialize<NodeState>(declared, ByTable));
        }
    }

    [Fact]
    public void Every_health_has_the_wire_name_the_serializer_writes_and_reads_back()
    {
        foreach (var health in Enum.GetValues<NodeHealth>())
        {
            var declared = JsonSerializer.Serialize(health);
            Assert.Equal(declared.Trim('"'), WireNames<NodeHealth>.Of(health));
            Assert.Equal(health, JsonSerializer.Deserialize<NodeHealth>(declared, ByTable));
        }
    }

    [Theory]
    [InlineData("\"Primary\"")]
    [InlineData("\"no_such_state\"")]
    [InlineData("3")]
    [InlineData("null")]
    public void Anything_but_a_declared_name_is_refused(string json) =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<NodeState>(json, ByTable));
}
