namespace PgAutoFailover.Keeper.Core;

/// <summary>
/// How long the oldest WAL this primary flushed has waited for a standby to flush it too: the time a commit waits
/// under synchronous replication, measured whether or not it is on. The monitor turns synchronous replication off when
/// it grows past its limit (docs/states.md, SYNC-ACK-STALL), which no other signal shows on a cut replication link: both
/// ends read "streaming" for seconds and a standby whose replies still arrive may receive nothing.
/// </summary>
/// <remarks>
/// Fed by the watch every sample (100 ms) with the primary's flush LSN and the best flush LSN of the standbys that
/// count (the synchronous ones while synchronous_standby_names is set, any otherwise). A primary with nothing to
/// send has no age: an idle cut link costs no commit anything. Timestamps are monotonic (<see cref="TimeProvider.GetTimestamp"/>).
/// </remarks>
public sealed class WalAckTracker
{
    /// <summary>Beyond this many pending samples (minutes of a stall) the newest is stretched instead of added: the age only grows.</summary>
    public const int MaxPending = 4096;

    private readonly LinkedList<(ulong Lsn, long At)> _pending = new();

    /// <summary>Monotonic moment of the oldest flushed WAL no standby has flushed yet, or null when every standby that counts has it all.</summary>
    public long? OldestUnacknowledgedSince => _pending.First?.Value.At;

    /// <summary>One sample: <paramref name="primaryFlush"/> as of <paramref name="now"/>, and the best standby flush LSN (null: no standby counts).</summary>
    public void Observe(long now, ulong primaryFlush, ulong? standbyFlush)
    {
        var acknowledged = standbyFlush ?? 0;
        while (_pending.First is { } first && first.Value.Lsn <= acknowledged) _pending.RemoveFirst();
        if (primaryFlush <= acknowledged) return;
        if (_pending.Last is { } last)
        {
            if (last.Value.Lsn >= primaryFlush) return;
            if (_pending.Count >= MaxPending)
            {
                last.Value = (primaryFlush, last.Value.At);
                return;
            }
        }
        _pending.AddLast((primaryFlush, now));
    }

    /// <summary>The node is no longer a writer (or its PostgreSQL stopped): what it flushed before is not waited for.</summary>
    public void Reset() => _pending.Clear();

    /// <summary>
    /// The best flush LSN among the standbys that count. With synchronous_standby_names set, those PostgreSQL lists as
    /// sync or quorum: a potential or an asynchronous one acknowledging releases no commit, and a cut synchronous one
    /// drops out of pg_stat_replication. Without it, every standby: none is waited for, but the monitor asks whether one
    /// keeps up before it turns synchronous replication back on.
    /// </summary>
    public static ulong? BestStandbyFlush(bool synchronousNamesSet, IEnumerable<(string SyncState, ulong FlushLsn)> standbys)
    {
        ulong? best = null;
        foreach (var (syncState, flush) in standbys)
        {
            if (synchronousNamesSet && syncState is not ("sync" or "quorum")) continue;
            if (best is null || flush > best) best = flush;
        }
        return best;
    }
}
