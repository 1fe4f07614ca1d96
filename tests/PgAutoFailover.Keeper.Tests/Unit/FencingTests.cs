using Microsoft.Extensions.Time.Testing;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;

namespace PgAutoFailover.Keeper.Tests.Unit;

public sealed class FencingDecisionTests
{
    private static readonly TimeSpan L = TimeSpan.FromSeconds(3);
    private readonly FakeTimeProvider _clock = new();

    private FenceDecision Decide(NodeState state, bool running, long? lease, long? reply) =>
        Fencing.Decide(new FenceInput(_clock.GetTimestamp(), state, running, lease, reply, L), _clock);

    [Fact]
    public void A_valid_lease_keeps_the_primary_serving()
    {
        var sent = _clock.GetTimestamp();
        var expiry = Fencing.ExpiryOf(sent, L, _clock);
        _clock.Advance(L - TimeSpan.FromMilliseconds(1));
        Assert.Equal(FenceDecision.LeaseValid, Decide(NodeState.Primary, true, expiry, null));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(FenceDecision.Fence, Decide(NodeState.Primary, true, expiry, null));
    }

    [Fact]
    public void An_expired_lease_with_a_standby_replying_within_the_window_keeps_serving()
    {
        var expiry = Fencing.ExpiryOf(_clock.GetTimestamp(), L, _clock);
        _clock.Advance(L * 2);
        var reply = _clock.GetTimestamp();
        _clock.Advance(L - TimeSpan.FromMilliseconds(10));
        Assert.Equal(FenceDecision.StandbyStreaming, Decide(NodeState.Primary, true, expiry, reply));
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(FenceDecision.Fence, Decide(NodeState.Primary, true, expiry, reply));
    }

    [Fact]
    public void No_lease_at_all_fences_a_running_writer()
    {
        Assert.Equal(FenceDecision.Fence, Decide(NodeState.Single, true, null, null));
        Assert.Equal(FenceDecision.Fence, Decide(NodeState.WaitPrimary, true, null, null));
    }

    [Theory]
    [InlineData(NodeState.Secondary)]
    [InlineData(NodeState.Demoted)]
    [InlineData(NodeState.StopReplication)]
    [InlineData(NodeState.Maintenance)]
    public void Non_writers_are_never_fenced(NodeState state) =>
        Assert.Equal(FenceDecision.NotApplicable, Decide(state, true, null, null));

    [Fact]
    public void A_stopped_postgres_needs_no_fencing() =>
        Assert.Equal(FenceDecision.NotApplicable, Decide(NodeState.Primary, false, null, null));

    [Fact]
    public void The_lease_counts_from_the_send_time_of_the_report()
    {
        var sent = _clock.GetTimestamp();
        _clock.Advance(TimeSpan.FromSeconds(1)); // the reply arrives a second later
        var expiry = Fencing.ExpiryOf(sent, L, _clock);
        _clock.Advance(L - TimeSpan.FromSeconds(1));
        Assert.Equal(FenceDecision.Fence, Decide(NodeState.Primary, true, expiry, null));
    }
}
