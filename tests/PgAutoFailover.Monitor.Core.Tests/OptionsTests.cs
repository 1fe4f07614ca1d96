namespace PgAutoFailover.Monitor.Core.Tests;

/// <summary>MonitorOptions.Problems: the decision timings are checked once at start, each problem naming its setting.</summary>
public sealed class OptionsTests
{
    [Fact]
    public void The_defaults_have_no_problem() => Assert.Empty(MonitorOptions.Default.Problems());

    [Fact]
    public void Each_timing_out_of_range_is_named()
    {
        var options = MonitorOptions.Default with
        {
            PrimaryLease = TimeSpan.Zero,
            ProbeFailuresBeforeUnhealthy = 0,
            LeaseSafetyMargin = TimeSpan.FromMilliseconds(-1),
            StartupGracePeriod = TimeSpan.Zero, // allowed: no grace
        };
        Assert.Equal(
        [
            "Monitor:Core:ProbeFailuresBeforeUnhealthy is 0: it must be between 1 and 1000",
            "Monitor:Core:PrimaryLease is 00:00:00: it must be more than zero",
            "Monitor:Core:LeaseSafetyMargin is -00:00:00.0010000: it must be more than zero or zero",
        ], options.Problems());
    }
}
