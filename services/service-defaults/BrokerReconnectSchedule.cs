using System.Reflection;
using MassTransit;
using MassTransit.RabbitMqTransport;
using RabbitMQ.Client.Exceptions;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// How soon a service hears the broker again after the broker was down (docs/operations.md#when-the-broker-restarts).
/// MassTransit 8 reconnects a receive endpoint that lost its broker on a schedule of its own, not settable through its
/// API: exponential from 3 s to 30 s, and the schedule is not reset by a success, so after one outage every later one
/// waits up to 30 s too. A keeper that cannot hear its goal for 30 s, or a monitor deaf to probes, stretches a failover
/// by as much. This replaces that schedule with one that retries every 0.25-2 s (same exceptions handled, no retry
/// limit, since a service gives up on its broker never). It sets the host configuration's retry policy, which MassTransit
/// keeps in private fields; if a MassTransit release renames them, <see cref="TryApply"/> says so and the service runs
/// on MassTransit's own schedule (BrokerReconnectScheduleTests fails first).
/// </summary>
public static class BrokerReconnectSchedule
{
    public static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan RetryStep = TimeSpan.FromMilliseconds(250);

    /// <summary>The policy installed: the exceptions MassTransit's own RabbitMQ policy retries, on the shorter schedule.</summary>
    public static IRetryPolicy Policy { get; } = Retry.CreatePolicy(x =>
    {
        x.Handle<ConnectionException>();
        x.Handle<AlreadyClosedException>();
        x.Handle<EndOfStreamException>();
        x.Handle<OperationInterruptedException>(exception => exception.ChannelShouldBeClosed());
        x.Handle<NotSupportedException>(exception => exception.Message.Contains("Pipelining of requests forbidden", StringComparison.Ordinal));
        x.Ignore<AuthenticationFailureException>();
        x.Exponential(int.MaxValue, FirstRetry, LongestRetry, RetryStep);
    });

    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic;

    /// <summary>
    /// Installs <see cref="Policy"/> on the bus being configured; returns why not when MassTransit's internals differ.
    /// Call it inside <c>UsingRabbitMq</c>, before the endpoints are configured.
    /// </summary>
    public static string? TryApply(IRabbitMqBusFactoryConfigurator rabbit)
    {
        var hostField = FindField(rabbit.GetType(), "_hostConfiguration");
        if (hostField?.GetValue(rabbit) is not { } host)
        {
            return $"{rabbit.GetType().Name} has no _hostConfiguration field";
        }
        var policyField = FindField(host.GetType(), "<ReceiveTransportRetryPolicy>k__BackingField");
        if (policyField is null || !typeof(IRetryPolicy).IsAssignableFrom(policyField.FieldType))
        {
            return $"{host.GetType().Name} keeps its receive transport retry policy elsewhere";
        }
        policyField.SetValue(host, Policy);
        return null;
    }

    /// <summary>The policy the bus being configured will use (what <see cref="TryApply"/> changed), for tests.</summary>
    public static IRetryPolicy? Current(IRabbitMqBusFactoryConfigurator rabbit)
    {
        var host = FindField(rabbit.GetType(), "_hostConfiguration")?.GetValue(rabbit);
        return host?.GetType().GetProperty("ReceiveTransportRetryPolicy")?.GetValue(host) as IRetryPolicy;
    }

    private static FieldInfo? FindField(Type? type, string name)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.GetField(name, Instance) is { } field) return field;
        }
        return null;
    }
}
