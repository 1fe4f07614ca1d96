namespace PgAutoFailover.Contracts;

/// <summary>
/// What a well-formed message looks like, in one place for every side: the monitor refuses a message that breaks
/// a rule before it reaches a decision or the store (a 1 MB host name, a null formation), and the CLI and the keeper
/// check the same rules before they send. <see cref="Problem"/> names the first broken rule in one line.
/// </summary>
public static class MessageRules
{
    /// <summary>Longest formation or node name (PostgreSQL's identifier length).</summary>
    public const int MaxNameLength = 63;

    /// <summary>Longest host: a DNS name (253) or an address.</summary>
    public const int MaxHostLength = 253;

    /// <summary>Longest free text a keeper or prober sends (an error, a progress line, a replication state).</summary>
    public const int MaxTextLength = 2000;

    /// <summary>The first rule <paramref name="message"/> breaks, or null when it keeps them all (or is of a type without rules).</summary>
    public static string? Problem(object message) => message switch
    {
        RegisterNode m => Formation(m.Formation) ?? Group(m.GroupId) ?? NodeName(m.NodeName) ?? Host(m.Host) ?? Port(m.Port)
            ?? DatabaseName(m.DatabaseName) ?? Priority(m.CandidatePriority) ?? (m.DesiredNodeId is { } id ? NodeId(id) : null)
            ?? State(m.InitialState),
        ReportNodeState m => Formation(m.Formation) ?? Group(m.GroupId) ?? NodeId(m.NodeId) ?? State(m.CurrentState)
            ?? Text(m.ReplicationState, "replication state", 64) ?? Text(m.LastError, "last error") ?? Text(m.Progress, "progress")
            ?? (m.Sequence < 0 ? $"report sequence {m.Sequence} is negative" : null)
            ?? (m.Epoch < 0 ? $"report epoch {m.Epoch} is negative" : null),
        NodeProbed m => Address(m.Node) ?? Text(m.Error, "probe error") ?? Text(m.CheckerId, "checker id", 300),
        UpdateNodeMetadata m => Formation(m.Formation) ?? Group(m.GroupId) ?? NodeId(m.NodeId) ?? NodeName(m.Name)
            ?? (m.Host is null ? null : Host(m.Host)) ?? (m.Port is { } port ? Port(port) : null),
        DropNode m => Formation(m.Formation) ?? NodeChoice(m.NodeId, m.NodeName),
        PerformPromotion m => Formation(m.Formation) ?? NodeChoice(m.NodeId, m.NodeName),
        PerformFailover m => Formation(m.Formation) ?? Group(m.GroupId),
        PerformSwitchover m => Formation(m.Formation) ?? Group(m.GroupId),
        EnableMaintenance m => Formation(m.Formation) ?? NodeId(m.NodeId),
        DisableMaintenance m => Formation(m.Formation) ?? NodeId(m.NodeId),
        SetCandidatePriority m => Formation(m.Formation) ?? NodeId(m.NodeId) ?? Priority(m.CandidatePriority),
        SetReplicationQuorum m => Formation(m.Formation) ?? NodeId(m.NodeId),
        SetNumberSyncStandbys m => Formation(m.Formation) ?? SyncStandbys(m.NumberSyncStandbys),
        SetAutomaticFailover m => Formation(m.Formation),
        CreateFormation m => Formation(m.Formation) ?? (string.IsNullOrEmpty(m.DatabaseName) ? null : DatabaseName(m.DatabaseName))
            ?? SyncStandbys(m.NumberSyncStandbys),
        DropFormation m => Formation(m.Formation),
        GetFormationState m => Formation(m.Formation),
        GetEvents m => Formation(m.Formation) ?? Group(m.GroupId) ?? (m.Count is < 0 or > 100_000 ? $"event count {m.Count} is not between 0 and 100000" : null),
        GetSettings m => Formation(m.Formation),
        GetTopology m => Text(m.RequestedBy, "requester", 300),
        _ => null,
    };

    /// <summary>Letters, digits, '_' and '-' (not first, so that it never reads as a flag), 1 to 63 characters: safe in a queue name, a URL path and a shell.</summary>
    public static string? Formation(string? name) =>
        name is null or "" ? "the formation name is empty"
        : name.Length > MaxNameLength ? $"the formation name has {name.Length} characters, more than {MaxNameLength}"
        : name[0] != '-' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? null
        : $"{Quote(name)} is not a valid formation name (letters, digits, '_' and '-', not first)";

    /// <summary>A node name: 1 to 63 printable characters (null: not given).</summary>
    public static string? NodeName(string? name) =>
        name is null ? null
        : name.Length is 0 or > MaxNameLength ? $"a node name must have 1 to {MaxNameLength} characters, not {name.Length}"
        : name.Any(char.IsControl) ? "a node name cannot hold control characters"
        : null;

    /// <summary>A host name or address: 1 to 253 characters, no spaces, no control characters, no '/'.</summary>
    public static string? Host(string? host) =>
        host is null or "" ? "the host is empty"
        : host.Length > MaxHostLength ? $"the host has {host.Length} characters, more than {MaxHostLength}"
        : host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or ',' or '?' or '#' or '@') ? $"{Quote(host)} is not a host name or address"
        : null;

    /// <summary>A TCP port, 1 to 65535.</summary>
    public static string? Port(int port) => port is < 1 or > 65535 ? $"port {port} is not between 1 and 65535" : null;

    /// <summary>A node id: the monitor hands out positive ones.</summary>
    public static string? NodeId(long id) => id <= 0 ? $"node id {id} is not a positive number" : null;

    /// <summary>A group id, 0 or more (null: not given).</summary>
    public static string? Group(int? group) => group is < 0 ? $"group {group} is negative" : null;

    /// <summary>A candidate priority as an operator or keeper sets it, 0 to 100.</summary>
    public static string? Priority(int priority) => priority is < 0 or > 100 ? $"candidate priority {priority} is not between 0 and 100" : null;

    /// <summary>number_sync_standbys, 0 to 100.</summary>
    public static string? SyncStandbys(int count) => count is < 0 or > 100 ? $"number_sync_standbys {count} is not between 0 and 100" : null;

    /// <summary>A database name: 1 to 63 characters, no control characters.</summary>
    public static string? DatabaseName(string? name) =>
        name is null or "" ? "the database name is empty"
        : name.Length > MaxNameLength ? $"the database name has {name.Length} characters, more than {MaxNameLength}"
        : name.Any(char.IsControl) ? "the database name cannot hold control characters"
        : null;

    /// <summary>A value of <see cref="NodeState"/>, not any number the wire carried.</summary>
    public static string? State(NodeState state) => Enum.IsDefined(state) ? null : $"{(int)state} is not a node state";

    private static string? Address(NodeAddress? node) =>
        node is null ? "the node address is missing" : Formation(node.Formation) ?? Group(node.GroupId) ?? NodeId(node.NodeId);

    private static string? NodeChoice(long? id, string? name) =>
        id is { } n ? NodeId(n) : name is null or "" ? "give a node id or a node name" : NodeName(name);

    /// <summary>A value in double quotes on one line: control characters (a newline) shown as '?'.</summary>
    public static string Quote(string value) => $"\"{string.Concat(value.Select(c => char.IsControl(c) ? '?' : c))}\"";

    private static string? Text(string? text, string what, int max = MaxTextLength) =>
        text is { Length: var length } && length > max ? $"the {what} has {length} characters, more than {max}" : null;
}
