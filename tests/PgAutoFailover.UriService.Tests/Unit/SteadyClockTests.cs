using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.UriService.Tests.Unit;

/// <summary>The monitor's clock: steps of the host's wall clock do not move it, the passing of time does.</summary>
public sealed class SteadyClockTests
{
    /// <summary>A host clock whose wall time can be stepped apart from its monotonic time, as settimeofday does.</summary>
    private sealed class HostClock : TimeProvider
    {
        public DateTimeOffset Wall { get; set; } = new(2026, 12, 6, 5, 0, 0, TimeSpan.Zero);
        public long Ticks { get; set; } = 1_000_000;

        public override DateTimeOffset GetUtcNow() => Wall;
        public override long GetTimestamp() => Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public void Pass(TimeSpan t)
        {
            Wall += t;
            Ticks += t.Ticks;
        }
    }

    [Fact]
    public void A_step_of_the_host_clock_neither_shortens_nor_stretches_a_wait()
    {
        var host = new HostClock();
        var clock = new SteadyClock(host);
        var leaseEnds = clock.GetUtcNow() + TimeSpan.FromSeconds(2);

        host.Pass(TimeSpan.FromSeconds(1));
        host.Wall += TimeSpan.FromMinutes(5); // NTP steps the clock forward
        Assert.True(clock.GetUtcNow() < leaseEnds, "a forward step must not end the lease early");
        Assert.Equal(TimeSpan.FromSeconds(1), leaseEnds - clock.GetUtcNow());

        host.Pass(TimeSpan.FromSeconds(1.5));
        host.Wall -= TimeSpan.FromHours(1); // and back, further
        Assert.True(clock.GetUtcNow() > leaseEnds, "a backward step must not hold the failover");
        Assert.Equal(host.GetTimestamp(), clock.GetTimestamp());
    }
}
