namespace PgAutoFailover.Contracts;

/// <summary>
/// Names of the broker objects each process declares for itself, fixed so that a broker user's permissions can name
/// them (docs/operations.md#broker-users, scripts/broker/definitions.sh). MassTransit would otherwise call a
/// process's reply queue "&lt;host&gt;_&lt;process name&gt;_bus_&lt;id&gt;", and the process name is "dotnet" for
/// `dotnet X.dll`, so no permission could tell a keeper's reply queue from the monitor's.
/// </summary>
public static class BrokerNames
{
    /// <summary>The monitor, health-checker, uri-service, keeper and the operator's pgaf: the tags of <see cref="BusEndpoint"/>.</summary>
    public const string Monitor = "monitor", HealthChecker = "health-checker", UriService = "uri-service", Keeper = "keeper", Cli = "cli";

    /// <summary>
    /// A new name for a process's own temporary queue and exchange, where its requests' answers arrive:
    /// "pgaf-&lt;tag&gt;-bus-" and 32 hexadecimal digits.
    /// </summary>
    public static string BusEndpoint(string tag) => $"pgaf-{tag}-bus-{Guid.NewGuid():N}";

    /// <summary>The queue where the monitor sends a keeper its goal: declared by the keeper, written to only by the monitor.</summary>
    public static string KeeperGoalQueue(long nodeId) => $"keeper-node-{nodeId}";
}
