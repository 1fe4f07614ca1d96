using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// The events one decision publishes, each with a message id derived from where it comes from (the group's
/// stream, the version after the decision, its place in the decision, its type): a copy published again after a
/// crash carries the same id, so consumers drop duplicates by MessageId (docs/events.md#delivery).
/// </summary>
public sealed record DecisionMessages(string Stream, long Version, IReadOnlyList<(object Message, Guid MessageId)> Messages)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    public static DecisionMessages Of(string stream, long version, IReadOnlyList<object> messages) =>
        new(stream, version, [.. messages.Select((m, i) => (m, IdOf(stream, version, i, m.GetType())))]);

    public static Guid IdOf(string stream, long version, int index, Type type)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{stream}\n{version}\n{index}\n{type.FullName}"));
        return new Guid(hash.AsSpan(0, 16));
    }

    public OutboxBatch ToBatch(DateTimeOffset now) => new()
    {
        Id = OutboxBatch.IdOf(Stream, Version), Stream = Stream, Version = Version, StoredAt = now,
        Messages = [.. Messages.Select(m => new OutboxMessage(m.Message.GetType().FullName!, JsonSerializer.Serialize(m.Message, m.Message.GetType(), Json), m.MessageId))],
    };

    public static DecisionMessages FromBatch(OutboxBatch batch) =>
        new(batch.Stream, batch.Version, [.. batch.Messages.Select(m => (Deserialize(m), m.MessageId))]);

    private static object Deserialize(OutboxMessage message)
    {
        var type = typeof(PrimaryChanged).Assembly.GetType(message.Type)
            ?? throw new InvalidOperationException($"outbox message of unknown type {message.Type}");
        return JsonSerializer.Deserialize(message.Json, type, Json)
            ?? throw new InvalidOperationException($"outbox message {message.MessageId} is empty");
    }
}
