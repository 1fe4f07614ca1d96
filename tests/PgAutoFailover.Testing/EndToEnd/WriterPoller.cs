using System.Collections.Concurrent;
using Npgsql;

namespace PgAutoFailover.Testing.EndToEnd;

/// <summary>
/// Issue 7 (f): every 100 ms, ask every node directly, all at the same moment, whether it would accept a write right
/// now: <c>NOT pg_is_in_recovery() AND transaction_read_only = off</c> (the keeper's fencing by
/// default_transaction_read_only counts as not writable). A round in which two nodes both answer "writable" is
/// recorded as a violation.
/// </summary>
/// <remarks>
/// Each node is asked on a session of its own, kept between rounds: a new connection per node and round cost
/// PostgreSQL a fork and a backend start, about 18 ms of CPU each on the two-core box, a third of a core for two nodes,
/// in nearly every end-to-end test. A kept session answers as a new one would: the fence is a reload of
/// postgresql.auto.conf, and a backend idle between rounds applies a reload before running its next statement; a
/// promotion is seen by the sessions already open; a demotion, a fast shutdown or a crash ends the session. A session
/// that fails or outlasts the timeout is dropped, and the next round connects anew (no pooling, a short timeout), so
/// an unreachable or paused node answers "not writable" as before. (The first round after a node hangs can take up to
/// 3 s, Npgsql's cancellation of the timed-out statement; the next ones 1 s, the connect timeout.)
/// </remarks>
public sealed class WriterPoller : IAsyncDisposable
{
    private const string Sql = "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'";
    private readonly Func<IReadOnlyList<DataNode>> _nodes;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentQueue<TimeSpan> _roundStarts = new();
    private readonly ConcurrentDictionary<string, NpgsqlConnection> _sessions = new();
    private readonly Task _loop;

    private WriterPoller(Func<IReadOnlyList<DataNode>> nodes)
    {
        _nodes = nodes;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Polls the cluster's nodes (nodes added later are polled too).</summary>
    public static WriterPoller Start(ProcessCluster cluster) => new(() => cluster.Nodes.ToList());

    public long Rounds => _roundStarts.Count;
    public IReadOnlyList<string> Violations => _violations.ToList();

    /// <summary>Completed rounds that started within [<paramref name="from"/>, <paramref name="to"/>) on <see cref="WriteLoad.Clock"/>.</summary>
    public int RoundsBetween(TimeSpan from, TimeSpan to) => _roundStarts.Count(t => t >= from && t < to);

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            var started = WriteLoad.Clock.Elapsed;
            var nodes = _nodes();
            var answers = await Task.WhenAll(nodes.Select(n => WritableAsync(n, token)));
            var writable = nodes.Where((n, i) => answers[i]).Select(n => n.Name).ToList();
            if (writable.Count > 1)
            {
                _violations.Enqueue($"at {started.TotalSeconds:F3} s: {string.Join(", ", writable)} all accept writes");
            }
            _roundStarts.Enqueue(started);
            var wait = TimeSpan.FromMilliseconds(100) - (WriteLoad.Clock.Elapsed - started);
            try { if (wait > TimeSpan.Zero) await Task.Delay(wait, token); } catch (OperationCanceledException) { break; }
        }
    }

    private async Task<bool> WritableAsync(DataNode node, CancellationToken token)
    {
        var address = $"{node.WatchHost}:{node.Port}";
        _sessions.TryRemove(address, out var session);
        try
        {
            if (session is null)
            {
                session = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
                {
                    Host = node.WatchHost, Port = node.Port, Username = "postgres", Database = "postgres",
                    Pooling = false, Timeout = 1, CommandTimeout = 1, CancellationTimeout = -1,
                }.ConnectionString);
                await session.OpenAsync(token);
            }
            bool writable;
            await using (var cmd = new NpgsqlCommand(Sql, session)) writable = await cmd.ExecuteScalarAsync(token) is true;
            _sessions[address] = session;
            session = null;
            return writable;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException or OperationCanceledException)
        {
            return false;
        }
        finally
        {
            if (session is not null) await session.DisposeAsync();
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        await _loop;
        _stop.Dispose();
        foreach (var session in _sessions.Values) await session.DisposeAsync();
        _sessions.Clear();
    }
}
