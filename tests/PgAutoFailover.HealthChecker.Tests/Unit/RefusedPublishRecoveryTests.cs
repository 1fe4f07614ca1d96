using MassTransit.Context;
using MassTransit;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using PgAutoFailover.ServiceDefaults;
using PublishException = RabbitMQ.Client.Exceptions.PublishException;

namespace PgAutoFailover.HealthChecker.Tests.Unit;

/// <summary>
/// When the broker's refusals of one destination's publishes make a process reopen its broker connection
/// (docs/operations.md#a-broker-cluster). The reopening itself, against a real three-node cluster, is
/// BrokerClusterTests' (end-to-end project).
/// </summary>
public sealed class RefusedPublishRecoveryTests
{
    private static readonly Uri Probes = new("rabbitmq://localhost/node-probed");
    private static readonly Uri Reports = new("rabbitmq://localhost/monitor-partition-3");

    private readonly FakeTimeProvider _time = new();
    private int _closed;
    private readonly RefusedPublishRecovery _recovery;

    public RefusedPublishRecoveryTests()
    {
        _recovery = new RefusedPublishRecovery(_time, NullLogger<RefusedPublishRecovery>.Instance, _ =>
        {
            Interlocked.Increment(ref _closed);
            return Task.FromResult<string?>("127.0.0.1:5702");
        });
    }

    [Fact]
    public async Task The_connection_is_reopened_at_the_second_refusal_within_ten_seconds_whatever_their_destinations()
    {
        await RefuseAsync(Probes, 1);
        await Task.Delay(200);
        Assert.Equal(0, _closed);

        _time.Advance(TimeSpan.FromSeconds(9));
        await RefuseAsync(Reports, 1);
        await ReopenedAsync(1);
        Assert.Equal(1, _closed);
    }

    [Fact]
    public async Task Refusals_further_apart_than_ten_seconds_do_not_reopen_it()
    {
        await RefuseAsync(Probes, 1);
        _time.Advance(TimeSpan.FromSeconds(10.5));
        await RefuseAsync(Probes, 1);
        await Task.Delay(200);
        Assert.Equal(0, _closed);
    }

    [Fact]
    public async Task Publishes_taken_between_the_refusals_do_not_hide_a_stuck_channel()
    {
        // One exchange routes to several quorum queues (the monitor's partitions): the channel may be refused by one
        // and taken by another, under the same destination address.
        await RefuseAsync(Probes, 1);
        await _recovery.PostSend(Send(Probes));
        await RefuseAsync(Probes, 1);
        await ReopenedAsync(1);
    }

    [Fact]
    public async Task A_refusal_told_twice_for_one_message_counts_once()
    {
        // MassTransit may tell a publish's failure to both the send and the publish observers.
        var refused = Send(Probes);
        refused.MessageId = Guid.NewGuid();
        await _recovery.SendFault(refused, Wrapped(new PublishException(1, isReturn: false)));
        await _recovery.SendFault(refused, Wrapped(new PublishException(1, isReturn: false)));
        await Task.Delay(200);
        Assert.Equal(0, _closed);
    }

    [Fact]
    public async Task A_returned_message_or_a_lost_connection_is_not_a_refusal()
    {
        for (var i = 0; i < 5; i++)
        {
            await _recovery.SendFault(Send(Probes), Wrapped(new PublishException(1, isReturn: true)));
            await _recovery.SendFault(Send(Probes), new RabbitMqConnectionException("Connect failed"));
        }
        await Task.Delay(200);
        Assert.Equal(0, _closed);
        Assert.True(RefusedPublishRecovery.IsRefusal(Wrapped(new PublishException(1, isReturn: false))));
        Assert.False(RefusedPublishRecovery.IsRefusal(Wrapped(new PublishException(1, isReturn: true))));
    }

    [Fact]
    public async Task Reopenings_wait_a_pause_that_doubles_until_nothing_was_refused_for_thirty_seconds()
    {
        await RefuseAsync(Probes, 2);
        await ReopenedAsync(1);

        await RefuseAsync(Probes, 2);                  // within the first pause (1 s): not reopened again
        _time.Advance(TimeSpan.FromMilliseconds(900));
        await RefuseAsync(Probes, 2);
        await Task.Delay(200);
        Assert.Equal(1, _recovery.Reopenings);

        _time.Advance(TimeSpan.FromMilliseconds(100)); // the pause is over
        await RefuseAsync(Probes, 1);
        await ReopenedAsync(2);

        _time.Advance(TimeSpan.FromSeconds(1.5));      // the second pause is 2 s
        await RefuseAsync(Probes, 2);
        await Task.Delay(200);
        Assert.Equal(2, _recovery.Reopenings);

        _time.Advance(TimeSpan.FromSeconds(31));       // nothing refused for 30 s: back to the first pause
        await RefuseAsync(Reports, 2);
        await ReopenedAsync(3);
        _time.Advance(TimeSpan.FromSeconds(1));
        await RefuseAsync(Reports, 2);
        await ReopenedAsync(4);
    }

    private async Task RefuseAsync(Uri destination, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await _recovery.SendFault(Send(destination), Wrapped(new PublishException((ulong)i + 1, isReturn: false)));
        }
    }

    private async Task ReopenedAsync(int times)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_recovery.Reopenings < times && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(times, _recovery.Reopenings);
    }

    /// <summary>What MassTransit throws for a negative confirm (RabbitMqChannelContext.BasicPublishAsync).</summary>
    private static RabbitMqConnectionException Wrapped(PublishException e) => new("BasicPublishAsync failed", e);

    private static MessageSendContext<string> Send(Uri destination) => new("probe") { DestinationAddress = destination };
}
