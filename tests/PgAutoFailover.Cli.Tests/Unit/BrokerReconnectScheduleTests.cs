using MassTransit;
using MassTransit.RetryPolicies;
using Microsoft.Extensions.DependencyInjection;
using PgAutoFailover.ServiceDefaults;
using RabbitMQ.Client.Exceptions;

namespace PgAutoFailover.Cli.Tests.Unit;

/// <summary>
/// Every service reconnects to a broker that was down within about 2 s of its return, not MassTransit's 30 s
/// (docs/operations.md#when-the-broker-restarts). The schedule lives in MassTransit's private fields: this fails first
/// when a MassTransit release moves them.
/// </summary>
public sealed class BrokerReconnectScheduleTests
{
    [Fact]
    public async Task The_short_schedule_replaces_MassTransits_on_a_bus_being_configured()
    {
        string? problem = "not configured";
        IRetryPolicy? before = null, after = null;
        var services = new ServiceCollection();
        services.AddMassTransit(bus => bus.UsingRabbitMq((_, rabbit) =>
        {
            before = BrokerReconnectSchedule.Current(rabbit);
            problem = BrokerReconnectSchedule.TryApply(rabbit);
            after = BrokerReconnectSchedule.Current(rabbit);
        }));
        await using var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<IBusControl>(); // builds the bus, which runs the configuration; starts nothing

        Assert.Null(problem);
        Assert.NotNull(before);
        Assert.NotSame(BrokerReconnectSchedule.Policy, before);
        Assert.Same(BrokerReconnectSchedule.Policy, after);
    }

    [Fact]
    public void It_retries_every_2_5_s_at_most_for_ever_and_handles_what_MassTransit_handles()
    {
        var policy = Assert.IsType<ExponentialRetryPolicy>(BrokerReconnectSchedule.Policy);
        Assert.Equal(int.MaxValue, policy.RetryLimit);
        var intervals = Enumerable.Range(0, 200).Select(policy.GetRetryInterval).ToList();
        Assert.All(intervals, x => Assert.InRange(x, TimeSpan.Zero, BrokerReconnectSchedule.LongestRetry * 1.25)); // ±25 % jitter
        Assert.True(intervals[0] < TimeSpan.FromSeconds(1), $"first retry after {intervals[0]}");

        Assert.True(policy.IsHandled(new ConnectionException("refused")));
        Assert.True(policy.IsHandled(new EndOfStreamException()));
        Assert.False(policy.IsHandled(new AuthenticationFailureException("wrong password")));
        Assert.False(policy.IsHandled(new InvalidOperationException("a bug, not the broker")));
    }
}
