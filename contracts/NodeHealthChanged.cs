namespace PgAutoFailover.Contracts;

/// <summary>Published when the monitor's verdict on a node's health flips.</summary>
/// <param name="Node">The node.</param>
/// <param name="PreviousHealth">Verdict before.</param>
/// <param name="Health">Verdict now.</param>
/// <param name="Reason">Last probe error or keeper-silence explanation; null when healthy.</param>
/// <param name="GroupVersion">Version of the group's event stream after this change.</param>
/// <param name="OccurredAt">Monitor time of the change.</param>
public sealed record NodeHealthChanged(
    NodeAddress Node, NodeHealth PreviousHealth, NodeHealth Health, string? Reason, long GroupVersion, DateTimeOffset OccurredAt);
