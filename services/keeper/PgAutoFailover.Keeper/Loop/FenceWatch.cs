using System.Diagnostics.Metrics;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>
/// The watch: samples PostgreSQL every FenceCheckPeriod over one kept-open connection. On a writer it checks the
/// primary lease (<see cref="Fencing.Decide"/>, safety rule 3 of docs/architecture.md#safety-rules) and fences when
/// it ran out with no standby replying; on a standby it wakes the reporter the moment the WAL receiver stops or
/// starts streaming (the monitor's lease wait counts from that report).
/// </summary>
public sealed partial class FenceWatch(KeeperOptions options, KeeperSession session, PostgresServer server, TimeProvider clock,
    ILogger<FenceWatch> logger) : IAsyncDisposable
{
    private static readonly Meter Meter = new(KeeperService.Telemetry.ServiceName);
    private static readonly Counter<long> Fences = Meter.CreateCounter<long>("pgaf.keeper.fences");

    private readonly LocalWatch _watch = new(server);
    private bool? _receiverStreaming; // as last sampled, on a standby
    private long? _watchRestsUntil;   // monotonic: PostgreSQL refused the watch's connection for now (57P03)

    public ValueTask DisposeAsync() => _watch.DisposeAsync();

    public async Task RunAsync(CancellationToken ct)
    {
        while (!session.FirstReportDone) await Task.Delay(50, ct);
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(options.FenceCheckPeriod, ct);
            NodeState current;
            lock (session.Gate) current = session.State.CurrentState;
            var running = server.IsPostmasterAlive();
            var sample = running ? await SampleAsync(ct) : null;
            if (!KeeperStates.IsWritable(current) || !running)
            {
                lock (session.Gate) session.WalAcks.Reset();
            }
            if (!KeeperStates.IsWritable(current))
            {
                FollowReceiver(sample);
                continue;
            }
            FenceDecision decision;
            var acknowledgedAgain = false;
            lock (session.Gate)
            {
                // A standby counts as replying when its reply_time advanced since the last look (monotonic moment of that look).
                if (sample is { InRecovery: false })
                {
                    session.Replies.Observe(sample.Standbys.Select(s => (s.ApplicationName, s.State, s.ReplyTime)));
                    session.WalAcks.Observe(clock.GetTimestamp(), sample.FlushLsn,
                        WalAckTracker.BestStandbyFlush(sample.SynchronousNamesSet, sample.Standbys.Select(s => (s.SyncState, s.FlushLsn))));
                    TimeSpan? age = session.WalAcks.OldestUnacknowledgedSince is { } u ? clock.GetElapsedTime(u) : null;
                    acknowledgedAgain = KeeperCore.ReportAcknowledgementsResumed(session.ReportedUnacknowledgedAge, age);
                    if (acknowledgedAgain) session.ReportedUnacknowledgedAge = null; // one wake per stall, until the next report
                }
                decision = Fencing.Decide(new FenceInput(clock.GetTimestamp(), session.State.CurrentState, running, session.Lease.ExpiresAt, session.Replies.LastReplyAt, session.Lease.Duration), clock);
            }
            if (acknowledgedAgain)
            {
                Log.AcknowledgedAgain(logger);
                session.ReporterWake.Release();
            }
            if (decision == FenceDecision.Fence) await FenceAsync(ct);
        }
    }

    /// <summary>One sample of the watch, or null when PostgreSQL does not answer within a few check periods (no new evidence).</summary>
    /// <remarks>
    /// While PostgreSQL refuses connections for now (starting, in crash recovery, shutting down: SQLSTATE 57P03) the
    /// watch tries every other check period (five FATAL lines a second in PostgreSQL's log, not ten): resting a whole
    /// loop period instead cost a rejoining standby up to a second between streaming and saying so. Any other failure
    /// (a slow answer on a busy box) is tried again at the next check, so a writer loses no evidence.
    /// </remarks>
    private async Task<WatchSample?> SampleAsync(CancellationToken ct)
    {
        if (_watchRestsUntil is { } until && clock.GetTimestamp() < until) return null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.FenceCheckPeriod * 3);
            return await _watch.SampleAsync(timeout.Token);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException or IOException)
        {
            if (e is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.CannotConnectNow })
                _watchRestsUntil = clock.GetTimestamp() + (long)((2 * options.FenceCheckPeriod).TotalSeconds * clock.TimestampFrequency);
            return null;
        }
    }

    /// <summary>
    /// A standby whose WAL receiver stops (its primary died or was cut off) or starts streaming reports at once instead
    /// of at the end of its period: the monitor counts the old primary's lease from the report that says "disconnected".
    /// </summary>
    private void FollowReceiver(WatchSample? sample)
    {
        var streaming = sample is { ReceiverStreaming: true };
        if (KeeperCore.ReportReceiverChange(_receiverStreaming, streaming))
        {
            Log.ReceiverChanged(logger, streaming ? "streaming" : "stopped streaming");
            session.ReporterWake.Release();
        }
        _receiverStreaming = streaming;
    }

    /// <summary>
    /// Stop taking writes at once (fast shutdown begun: new sessions refused, open ones terminated), then wait for
    /// PostgreSQL to stop and self-assign demote_timeout (docs/failover-timing.md). The first step does not wait for the actor: a
    /// transition in progress must not hold the fence past the monitor's margin (it fails and is retried; nothing
    /// restarts a writer without a lease).
    /// </summary>
    private async Task FenceAsync(CancellationToken ct)
    {
        lock (session.Gate)
        {
            var decision = Fencing.Decide(new FenceInput(clock.GetTimestamp(), session.State.CurrentState, server.IsPostmasterAlive(), session.Lease.ExpiresAt,
                session.Replies.LastReplyAt, session.Lease.Duration), clock);
            if (decision != FenceDecision.Fence) return;
        }
        Log.Fencing(logger, session.Lease.Duration);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        server.BeginFastShutdown();
        await _watch.CloseAsync();
        await session.ActLock.WaitAsync(ct);
        try
        {
            await server.StopAsync(ct, "fast", options.FenceTimeout);
            Fences.Add(1);
            lock (session.Gate)
            {
                session.Lease.Fenced();
                session.RecordLease();
                session.Save(session.State with { CurrentState = NodeState.DemoteTimeout, AssignedState = NodeState.DemoteTimeout });
            }
            Log.Fenced(logger, watch.Elapsed.TotalSeconds);
            session.ReporterWake.Release();
        }
        finally
        {
            session.ActLock.Release();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "WAL receiver {Change}: reporting now")]
        public static partial void ReceiverChanged(ILogger logger, string change);

        [LoggerMessage(Level = LogLevel.Information, Message = "A standby acknowledges the WAL again: reporting now")]
        public static partial void AcknowledgedAgain(ILogger logger);

        [LoggerMessage(Level = LogLevel.Critical, Message = "Primary lease expired and no standby replied within {Window}: fencing PostgreSQL (fast shutdown)")]
        public static partial void Fencing(ILogger logger, TimeSpan window);

        [LoggerMessage(Level = LogLevel.Critical, Message = "Fenced in {Elapsed:F2} s: PostgreSQL stopped, current state is now \"demote_timeout\"")]
        public static partial void Fenced(ILogger logger, double elapsed);
    }
}
