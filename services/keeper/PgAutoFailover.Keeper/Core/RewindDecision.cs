using System.Globalization;

namespace PgAutoFailover.Keeper.Core;

/// <summary>
/// Whether an old primary must be rewound before it can follow the new one (services/keeper/README.md, "Rejoin").
/// It must when its WAL holds anything past the point where the new primary's timeline left its own: a
/// record that starts at or after that switch point was never received by the promoted standby. When its WAL ends at
/// the switch point (the usual case with synchronous replication and a crash between commits), PostgreSQL itself can
/// follow the new timeline from where the old one ends, and pg_rewind, whose own crash recovery writes a shutdown
/// checkpoint past the switch point, would only copy WAL and cost a second or more. Pure: the evidence is gathered by
/// the transition runner (pg_controldata, the new primary's timeline history, pg_waldump from the switch point).
/// </summary>
public static class RewindDecision
{
    /// <summary>What pg_waldump says when no record starts at or after the position it was given.</summary>
    public const string NoRecordAfter = "could not find a valid record after";

    /// <summary>
    /// The switch point where a timeline whose history file is <paramref name="history"/> left <paramref name="timeline"/>,
    /// or null when that history does not descend from it. Lines are "parentTLI switchpoint reason"; any other line (a
    /// comment, the file name psql prints before the content) is skipped.
    /// </summary>
    public static ulong? SwitchPointOff(string history, uint timeline)
    {
        foreach (var raw in history.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var fields = line.Split(['\t', ' '], 3, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !uint.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var parent)) continue;
            if (parent == timeline) return ParseLsn(fields[1]);
        }
        return null;
    }

    /// <summary>
    /// True only on positive evidence that the local WAL ends at or before the switch point: pg_waldump, started at the
    /// switch point on the local timeline, failed because no record starts there or later. Any other outcome (a record
    /// found, pg_waldump missing, a file it could not open, output it does not recognise) means rewind.
    /// </summary>
    public static bool WalEndsAtOrBefore(int waldumpExitCode, string waldumpOutput) =>
        waldumpExitCode != 0 && waldumpOutput.Contains(NoRecordAfter, StringComparison.Ordinal) && !waldumpOutput.Contains("lsn: ", StringComparison.Ordinal);

    /// <summary>
    /// No rewind needed: the new primary's timeline descends from the local one at a switch point that is not before the
    /// local last checkpoint's redo point, and no local record starts at or after it.
    /// </summary>
    public static bool CanFollowWithoutRewind(uint localTimeline, ulong localRedo, uint upstreamTimeline, ulong? switchPoint, bool walEndsAtOrBeforeSwitch) =>
        upstreamTimeline > localTimeline && switchPoint is { } at && localRedo <= at && walEndsAtOrBeforeSwitch;

    /// <summary>"0/304D848" as a number, or null.</summary>
    public static ulong? ParseLsn(string text)
    {
        var slash = text.IndexOf('/');
        if (slash <= 0) return null;
        return ulong.TryParse(text.AsSpan(0, slash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)
               && ulong.TryParse(text.AsSpan(slash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low)
               && high <= uint.MaxValue && low <= uint.MaxValue
            ? (high << 32) | low
            : null;
    }
}
