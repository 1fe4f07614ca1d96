using System.Globalization;
using System.Text.RegularExpressions;

namespace PgAutoFailover.Keeper.Core;

/// <summary>
/// What a long step (initdb, pg_basebackup, pg_rewind, fast_forward) is doing now, for the reports the
/// keeper sends while the step runs: the reporter runs beside the actor, so it reads this every period.
/// "pg_basebackup from node 1 (10.0.0.11:5432): 45 MB / 120 MB (38 %), 3 s", or
/// "pg_rewind from node 1 (10.0.0.11:5432) running for 3 s" before the tool printed any progress.
/// </summary>
public sealed partial class StepProgress(TimeProvider clock)
{
    private readonly object _gate = new();
    private string? _step;
    private string? _detail;
    private long _startedAt;
    private long _token;

    /// <summary>Starts reporting <paramref name="step"/>; disposing the result ends it (a later step is left alone).</summary>
    public IDisposable Begin(string step)
    {
        lock (_gate)
        {
            _step = step;
            _detail = null;
            _startedAt = clock.GetTimestamp();
            return new Scope(this, ++_token);
        }
    }

    /// <summary>The latest detail of the running step (ignored when no step runs).</summary>
    public void Detail(string detail)
    {
        lock (_gate)
        {
            if (_step is not null) _detail = detail;
        }
    }

    /// <summary>One line for ReportNodeState.Progress; null when idle.</summary>
    public string? Current
    {
        get
        {
            lock (_gate)
            {
                if (_step is null) return null;
                var seconds = (long)clock.GetElapsedTime(_startedAt).TotalSeconds;
                return _detail is null
                    ? string.Create(CultureInfo.InvariantCulture, $"{_step} running for {seconds} s")
                    : string.Create(CultureInfo.InvariantCulture, $"{_step}: {_detail}, {seconds} s");
            }
        }
    }

    private void End(long token)
    {
        lock (_gate)
        {
            if (token != _token) return;
            _step = null;
            _detail = null;
        }
    }

    /// <summary>
    /// "45 MB / 120 MB (38 %)" from a progress line of pg_basebackup -P ("46080/122880 kB (37%), 0/1 tablespace")
    /// or pg_rewind --progress ("46080/122880 kB (37%) copied"); null for any other line.
    /// </summary>
    public static string? ParseCopyProgress(string line)
    {
        var m = CopyProgress().Match(line);
        if (!m.Success) return null;
        var done = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var total = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{Megabytes(done)} / {Megabytes(total)} ({m.Groups[3].Value} %)");
    }

    private static string Megabytes(long kilobytes) =>
        kilobytes < 10 * 1024
            ? string.Create(CultureInfo.InvariantCulture, $"{kilobytes / 1024.0:0.0} MB")
            : string.Create(CultureInfo.InvariantCulture, $"{kilobytes / 1024} MB");

    [GeneratedRegex(@"(\d+)\s*/\s*(\d+)\s*kB\s*\((\d+)%\)")]
    private static partial Regex CopyProgress();

    private sealed class Scope(StepProgress owner, long token) : IDisposable
    {
        public void Dispose() => owner.End(token);
    }
}
