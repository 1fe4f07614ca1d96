namespace PgAutoFailover.Monitor.Store;

/// <summary>The serialized state of a group at a stream version; a rebuild replays only the events after it.</summary>
public sealed class GroupSnapshot
{
    /// <summary>Stream key, "&lt;formation&gt;/&lt;group&gt;".</summary>
    public string Id { get; set; } = "";
    public string Formation { get; set; } = "";
    public int GroupId { get; set; }
    public long Version { get; set; }
    /// <summary>GroupState as JSON (System.Text.Json), kept opaque to Marten.</summary>
    public string State { get; set; } = "";
}
