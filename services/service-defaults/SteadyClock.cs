namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// Wall-clock time that a step of the host's clock cannot move: the wall clock read once, at start, plus the monotonic
/// time elapsed since (which NTP slews as it slews the wall clock, but never steps). The monitor's rules subtract
/// instants (a keeper's silence, the wait for an old primary's lease to run out; docs/failover-timing.md): read off
/// the host's clock, a step forward would end a lease wait early and one backward would hold a failover for as long
/// as the step. The price: within one run, its times differ from the host's by the sum of the steps the host took
/// (docs/faults.md, "A clock step").
/// </summary>
public sealed class SteadyClock : TimeProvider
{
    private readonly TimeProvider _source;
    private readonly DateTimeOffset _origin;
    private readonly long _start;

    /// <param name="source">Where the wall clock is read once and the monotonic one always (the system's by default).</param>
    public SteadyClock(TimeProvider? source = null)
    {
        _source = source ?? System;
        _origin = _source.GetUtcNow();
        _start = _source.GetTimestamp();
    }

    public override DateTimeOffset GetUtcNow() => _origin + _source.GetElapsedTime(_start);

    public override long GetTimestamp() => _source.GetTimestamp();

    public override long TimestampFrequency => _source.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => _source.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _source.CreateTimer(callback, state, dueTime, period);
}
