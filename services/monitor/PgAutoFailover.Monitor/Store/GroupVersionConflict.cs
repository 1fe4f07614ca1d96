namespace PgAutoFailover.Monitor.Store;

/// <summary>Another writer advanced the group's stream since we read it: reload and decide again.</summary>
public sealed class GroupVersionConflict(string key, long expectedVersion, Exception inner)
    : Exception($"group {key} is no longer at version {expectedVersion}", inner);
