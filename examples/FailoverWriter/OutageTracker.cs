namespace FailoverWriter;

/// <summary>
/// Turns the stream of write results into outages: from the last acknowledged write before a failure to the next
/// acknowledged one. Pure: the caller gives the times.
/// </summary>
internal sealed class OutageTracker
{
    private TimeSpan? _lastAck;
    private int _lastPort;
    private int _failures;
    private string? _firstError;

    public sealed record Outage(TimeSpan Length, int FromPort, int ToPort, int FailedAttempts, string FirstError);

    /// <summary>A write acknowledged at <paramref name="at"/> by the server listening on <paramref name="port"/>; the outage it ends, if any.</summary>
    public Outage? Acknowledged(TimeSpan at, int port)
    {
        Outage? ended = null;
        if ((_failures > 0 || (_lastPort != 0 && port != _lastPort)) && _lastAck is { } last)
            ended = new Outage(at - last, _lastPort, port, _failures, _firstError ?? "the server changed between two writes");
        _lastAck = at;
        _lastPort = port;
        _failures = 0;
        _firstError = null;
        return ended;
    }

    public void Failed(string error)
    {
        _failures++;
        _firstError ??= error;
    }
}
