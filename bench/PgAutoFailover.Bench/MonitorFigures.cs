using System.Globalization;

namespace PgAutoFailover.Bench;

/// <summary>
/// From one monitor's /metrics: its decision count and total duration (pgaf.monitor.decision.duration), its stream version
/// conflicts (another instance advanced the group first), and the cumulative buckets of MassTransit's receive duration on
/// the partition queues (delivery to the monitor until the consumer is done: for a report, its whole stay inside the
/// monitor until the reply is sent; probes are counted with them, as they share the endpoints). Several
/// monitors' figures add up with <see cref="Sum"/>.
/// </summary>
public sealed record MonitorFigures(long Decisions, double DecisionMs, long Conflicts, SortedDictionary<double, long> ReportBuckets,
    SortedDictionary<double, long> DecisionBuckets)
{
    public static async Task<MonitorFigures> ScrapeAsync(HttpClient http)
    {
        var lines = (await http.GetStringAsync("/metrics")).Split('\n');
        static double Number(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        double Sum(string name) => lines.Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal)).Sum(Number);
        SortedDictionary<double, long> Buckets(string name, string? filter)
        {
            var buckets = new SortedDictionary<double, long>();
            foreach (var line in lines.Where(l => l.StartsWith(name + "_bucket{", StringComparison.Ordinal)
                                                  && (filter is null || l.Contains(filter, StringComparison.Ordinal))))
            {
                var le = line[(line.IndexOf("le=\"", StringComparison.Ordinal) + 4)..];
                le = le[..le.IndexOf('"')];
                var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                buckets[bound] = buckets.GetValueOrDefault(bound) + (long)Number(line);
            }
            return buckets;
        }
        return new MonitorFigures((long)Sum("pgaf_monitor_decision_duration_milliseconds_count"),
            Sum("pgaf_monitor_decision_duration_milliseconds_sum"),
            (long)Sum("pgaf_monitor_version_conflicts_total"),
            Buckets("messaging_masstransit_receive_duration_milliseconds", "destination=\"monitor-partition-"),
            Buckets("pgaf_monitor_decision_duration_milliseconds", null));
    }

    /// <summary>Several monitors' figures as one.</summary>
    public static MonitorFigures Sum(IReadOnlyList<MonitorFigures> all) => new(
        all.Sum(f => f.Decisions), all.Sum(f => f.DecisionMs), all.Sum(f => f.Conflicts),
        Merge(all.Select(f => f.ReportBuckets)), Merge(all.Select(f => f.DecisionBuckets)));

    private static SortedDictionary<double, long> Merge(IEnumerable<SortedDictionary<double, long>> buckets)
    {
        var merged = new SortedDictionary<double, long>();
        foreach (var (le, count) in buckets.SelectMany(b => b)) merged[le] = merged.GetValueOrDefault(le) + count;
        return merged;
    }

    /// <summary>Upper bound of the bucket holding the p-quantile of what was counted between two scrapes.</summary>
    public static double Quantile(SortedDictionary<double, long> before, SortedDictionary<double, long> after, double p)
    {
        var total = after.LastOrDefault().Value - before.LastOrDefault().Value;
        foreach (var (le, count) in after)
        {
            if (count - before.GetValueOrDefault(le) >= p * total) return le;
        }
        return double.PositiveInfinity;
    }
}
