using System.Text.Json;
using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Store;

/// <summary>How a group snapshot is serialized: plain System.Text.Json, independent of Marten's settings.</summary>
public static class GroupStateJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General);

    public static string Serialize(GroupState state) => JsonSerializer.Serialize(state, Options);

    public static GroupState Deserialize(string json) =>
        JsonSerializer.Deserialize<GroupState>(json, Options) ?? throw new InvalidDataException("empty group snapshot");
}
