namespace PgAutoFailover.Monitor.Store;

/// <summary>A formation's settings as created (docs/states.md#node-states); the live values live in its groups' streams.</summary>
public sealed class FormationRecord
{
    /// <summary>Formation name.</summary>
    public string Id { get; set; } = "";
    public string Kind { get; set; } = "pgsql";
    public string DatabaseName { get; set; } = "postgres";
    public int NumberSyncStandbys { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
