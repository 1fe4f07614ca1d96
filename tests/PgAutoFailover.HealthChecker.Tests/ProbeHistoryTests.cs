using PgAutoFailover.Contracts;
using PgAutoFailover.HealthChecker.Probing;

namespace PgAutoFailover.HealthChecker.Tests;

public sealed class ProbeHistoryTests
{
    private static readonly NodeAddress Address = new("f", 0, 1, "node_1", "127.0.0.1", 5432);
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static NodeProbed Ok(int second, bool inRecovery = false) =>
        new(Address, true, null, TimeSpan.FromMilliseconds(2), "c1", T0.AddSeconds(second), inRecovery);

    private static NodeProbed Failed(int second) =>
        new(Address, false, "Connection refused", TimeSpan.FromMilliseconds(1), "c1", T0.AddSeconds(second), null);

    [Fact]
    public void Successes_are_published_on_change_and_then_every_confirm_period()
    {
        var history = new ProbeHistory(confirmEvery: 3);
        var published = Enumerable.Range(0, 10).Select(s => history.Next(Ok(s)) is not null).ToArray();
        Assert.Equal([true, false, false, true, false, false, true, false, false, true], published);
    }

    [Fact]
    public void Every_failure_is_published_with_its_count_and_start()
    {
        var history = new ProbeHistory(confirmEvery: 5);
        Assert.NotNull(history.Next(Ok(0)));
        var failures = new[] { history.Next(Failed(1)), history.Next(Failed(2)), history.Next(Failed(3)) };
        Assert.All(failures, Assert.NotNull);
        Assert.Equal([1, 2, 3], failures.Select(f => f!.ConsecutiveFailures));
        Assert.All(failures, f => Assert.Equal(T0.AddSeconds(1), f!.FailingSince));

        var back = history.Next(Ok(4));
        Assert.NotNull(back);
        Assert.Equal(0, back.ConsecutiveFailures);
        Assert.Null(back.FailingSince);
        Assert.Null(history.Next(Ok(5)));
        Assert.Equal(1, history.Next(Failed(6))!.ConsecutiveFailures);
        Assert.Equal(T0.AddSeconds(6), history.Next(Failed(7))!.FailingSince);
    }

    [Fact]
    public void A_change_of_the_recovery_flag_is_published_at_once()
    {
        var history = new ProbeHistory(confirmEvery: 100);
        Assert.NotNull(history.Next(Ok(0, inRecovery: true)));
        Assert.Null(history.Next(Ok(1, inRecovery: true)));
        Assert.NotNull(history.Next(Ok(2, inRecovery: false)));
    }

    [Fact]
    public void After_a_failed_publish_the_next_result_is_published()
    {
        var history = new ProbeHistory(confirmEvery: 100);
        Assert.NotNull(history.Next(Ok(0)));
        history.PublishFailed();
        Assert.NotNull(history.Next(Ok(1)));
        Assert.Null(history.Next(Ok(2)));
    }

    [Fact]
    public void Confirm_every_one_publishes_every_result()
    {
        var history = new ProbeHistory(confirmEvery: 1);
        Assert.All(Enumerable.Range(0, 5), s => Assert.NotNull(history.Next(Ok(s))));
    }
}
