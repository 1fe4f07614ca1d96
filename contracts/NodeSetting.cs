namespace PgAutoFailover.Contracts;

/// <summary>One row of show settings.</summary>
/// <param name="Context">formation, primary or node.</param>
/// <param name="Name">Node name or formation name.</param>
/// <param name="Setting">Setting name (number_sync_standbys, synchronous_standby_names, candidate_priority, replication_quorum).</param>
/// <param name="Value">Setting value as text.</param>
public sealed record NodeSetting(string Context, string Name, string Setting, string Value);
