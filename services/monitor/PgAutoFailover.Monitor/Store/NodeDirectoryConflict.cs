using Npgsql;

namespace PgAutoFailover.Monitor.Store;

/// <summary>
/// The node directory's unique indexes refused a write: another request, in another group or on another monitor
/// instance, took the same host:port or formation + name between our check and our commit. The whole transaction,
/// the group's events with it, was rolled back.
/// </summary>
public sealed class NodeDirectoryConflict(bool name, Exception inner)
    : Exception($"{(name ? "the name" : "host:port")} was taken by another request at the same time", inner)
{
    /// <summary>The name (formation + name) was taken; otherwise the address (host:port).</summary>
    public bool Name { get; } = name;

    /// <summary>The conflict carried by <paramref name="e"/> or one of its inner exceptions, if it is one.</summary>
    public static NodeDirectoryConflict? From(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } unique)
            {
                return unique.ConstraintName switch
                {
                    NodeDirectory.AddressIndex => new NodeDirectoryConflict(name: false, e),
                    NodeDirectory.NameIndex => new NodeDirectoryConflict(name: true, e),
                    _ => null,
                };
            }
        }
        return null;
    }
}
