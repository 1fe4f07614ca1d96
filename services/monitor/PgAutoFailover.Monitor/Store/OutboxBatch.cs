namespace PgAutoFailover.Monitor.Store;

/// <summary>
/// The messages one decision publishes, stored in the transaction that appends its events
/// (docs/events.md#delivery): deleted once they were published, relayed by <see cref="Groups.OutboxRelay"/> when the
/// monitor died first.
/// </summary>
public sealed class OutboxBatch
{
    /// <summary>"&lt;stream&gt;@&lt;version after the decision&gt;".</summary>
    public string Id { get; set; } = "";
    public string Stream { get; set; } = "";
    public long Version { get; set; }
    public DateTimeOffset StoredAt { get; set; }
    public List<OutboxMessage> Messages { get; set; } = [];

    public static string IdOf(string stream, long version) => $"{stream}@{version}";
}

/// <summary>One message of a batch: its contract type, its JSON and the message id every copy of it carries.</summary>
public sealed record OutboxMessage(string Type, string Json, Guid MessageId);
