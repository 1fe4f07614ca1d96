using PgAutoFailover.Monitor.Core.Model;

namespace PgAutoFailover.Monitor.Core;

/// <summary>
/// Order of a node's keeper reports: by (epoch, sequence). The sequence rises with
/// every report and lets the monitor drop a redelivered or overtaken one; the epoch rises at every keeper start and
/// whenever the monitor refuses a report as out of order. Without the epoch one report with a far-future sequence
/// (forged, or from a damaged state file) made the monitor drop every later report of that node for good; now the
/// keeper is told the epoch it must pass, moves past it and is heard again at its next report. An epoch may move
/// ahead by at most <see cref="MaxEpochStep"/> at once, so a forged epoch cannot run the counter out either.
/// </summary>
public static class ReportOrder
{
    /// <summary>Largest step between the last accepted epoch and a report's (a keeper moves by one per start or refusal).</summary>
    public const long MaxEpochStep = 1000;

    /// <summary>Why a report of (<paramref name="epoch"/>, <paramref name="sequence"/>) cannot be taken, or null when it can.</summary>
    public static string? Check(MonitorNode node, long epoch, long sequence)
    {
        if (epoch < node.LastReportEpoch)
            return $"comes from an earlier keeper run (epoch {epoch}; last accepted report: {Label(node.LastReportEpoch, node.LastReportSequence)})";
        if (epoch == node.LastReportEpoch && sequence <= node.LastReportSequence)
            return $"is a duplicate or out of order (last accepted #{node.LastReportSequence})";
        if (epoch - node.LastReportEpoch > MaxEpochStep)
            return $"jumps from epoch {node.LastReportEpoch} to {epoch}, more than {MaxEpochStep} at once";
        return null;
    }

    /// <summary>A redelivery of the report last accepted: answered with the current goal, as the first delivery was.</summary>
    public static bool IsLastAccepted(MonitorNode node, long epoch, long sequence) =>
        epoch == node.LastReportEpoch && sequence == node.LastReportSequence;

    /// <summary>Whether a report of (<paramref name="epoch"/>, <paramref name="sequence"/>) comes after the node's last accepted one.</summary>
    public static bool IsAfterLast(MonitorNode node, long epoch, long sequence) =>
        epoch > node.LastReportEpoch || epoch == node.LastReportEpoch && sequence > node.LastReportSequence;

    /// <summary>"#12" for reports of keepers without an epoch, "#12 of epoch 3" otherwise.</summary>
    public static string Label(long epoch, long sequence) => epoch == 0 ? $"#{sequence}" : $"#{sequence} of epoch {epoch}";
}
