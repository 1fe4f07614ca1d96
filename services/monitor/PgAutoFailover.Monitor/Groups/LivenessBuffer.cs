using System.Collections.Concurrent;
using PgAutoFailover.Monitor.Core.Events;
using PgAutoFailover.Monitor.Store;

namespace PgAutoFailover.Monitor.Groups;

/// <summary>
/// Collects the latest liveness-only event of each node between two flushes, so a thousand reports a
/// second become one batch of upserts a second. Losing a batch in a crash is harmless: a rebuilt group
/// assumes the worst (<c>GroupState.Restarted</c>) until fresh reports arrive.
/// </summary>
public sealed class LivenessBuffer
{
    private ConcurrentDictionary<long, NodeLiveness> _pending = new();

    public void Record(string streamKey, IEnumerable<IGroupEvent> events)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case NodeReported report:
                    _pending.AddOrUpdate(report.NodeId,
                        _ => new NodeLiveness { Id = report.NodeId, StreamKey = streamKey, LatestReport = report },
                        (_, known) => { known.LatestReport = report; return known; });
                    break;
                case ProbeRecorded probe:
                    _pending.AddOrUpdate(probe.NodeId,
                        _ => new NodeLiveness { Id = probe.NodeId, StreamKey = streamKey, LatestProbe = probe },
                        (_, known) => { known.LatestProbe = probe; return known; });
                    break;
            }
        }
    }

    /// <summary>Everything recorded since the last call.</summary>
    public IReadOnlyCollection<NodeLiveness> Drain() => Interlocked.Exchange(ref _pending, new()).Values.ToArray();
}
