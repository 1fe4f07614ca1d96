using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Store;

/// <summary>A group's state and the stream version it was folded up to.</summary>
public sealed record LoadedGroup(string Key, GroupState State, long Version);
