namespace PgAutoFailover.Contracts;

/// <summary>Keeper → monitor request to register a node. Answered by <see cref="NodeRegistered"/> or <see cref="RegistrationRejected"/>.</summary>
/// <param name="Formation">Formation to join.</param>
/// <param name="GroupId">Requested group, or null to let the monitor choose.</param>
/// <param name="NodeName">Requested node name, or null for node_&lt;id&gt;.</param>
/// <param name="Host">Host name or address of the node's PostgreSQL.</param>
/// <param name="Port">Port of the node's PostgreSQL.</param>
/// <param name="DatabaseName">Application database name used in connection strings.</param>
/// <param name="SystemIdentifier">PostgreSQL system identifier, when the data directory exists already.</param>
/// <param name="CandidatePriority">Candidate priority, 0..100 (0 never promoted).</param>
/// <param name="ReplicationQuorum">Whether the node takes part in synchronous_standby_names.</param>
/// <param name="DesiredNodeId">Node id asked for, or null to let the monitor assign one.</param>
/// <param name="InitialState">State the keeper starts from (init, or single when adopting a running primary).</param>
public sealed record RegisterNode(
    string Formation,
    int? GroupId,
    string? NodeName,
    string Host,
    int Port,
    string DatabaseName,
    ulong? SystemIdentifier,
    int CandidatePriority,
    bool ReplicationQuorum,
    long? DesiredNodeId,
    NodeState InitialState);
