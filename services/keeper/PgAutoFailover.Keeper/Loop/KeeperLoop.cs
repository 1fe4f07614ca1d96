using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Actions;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>Why the keeper stopped on its own, for the command line's exit code.</summary>
public sealed class KeeperExit
{
    /// <summary>Exit code of a keeper whose node was dropped (pg_auto_failover's convention): its supervisor must not restart it.</summary>
    public const int NodeDropped = ServiceExitCodes.NodeDropped;

    private volatile int _code;
    public int Code { get => _code; set => _code = value; }
    public string? Error { get; set; }
}

/// <summary>
/// The keeper's life (services/keeper/README.md): takes the data directory's lock, registers the node or loads its
/// state file, then runs three tasks over one <see cref="KeeperSession"/> until stopped: the <see cref="Reporter"/>,
/// the <see cref="Actor"/> (whose decisions are <see cref="KeeperCore"/>'s) and the <see cref="FenceWatch"/>. Goals
/// pushed on the node's queue reach the session through the <see cref="GoalReceiver"/>; SIGHUP goes to the
/// <see cref="ConfigReloader"/>. A node that was dropped stops the keeper with exit code 121; a fatal error with 1.
/// </summary>
public sealed partial class KeeperLoop(
    KeeperOptions options,
    KeeperSession session,
    NodeRegistration registration,
    NodeIdentity identity,
    GoalReceiver goals,
    Reporter reporter,
    Actor actor,
    FenceWatch watch,
    ConfigReloader reloader,
    PostgresServer server,
    PrimaryActions primary,
    IHostApplicationLifetime lifetime,
    KeeperExit exit,
    ILogger<KeeperLoop> logger) : BackgroundService
{
    private FileStream? _lock;
    private volatile bool _started;

    /// <summary>The state as persisted (for tests and /health).</summary>
    public KeeperState State => session.Snapshot();

    /// <summary>SIGHUP: applies the settings that can change at run time.</summary>
    public Task ReloadAsync(CancellationToken ct) => reloader.ReloadAsync(ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await StartUpAsync(stoppingToken);
            // The first of the three to fail stops the keeper (its supervisor restarts it): one left running without the
            // others would be a keeper that no longer reports, or no longer acts, and says nothing. Whichever ends first
            // (a failure, or the stop), the others are cancelled and awaited before this returns: a transition or a state
            // write must not outlive the keeper's stop, which then stops PostgreSQL (a transition still running could
            // start it again) and releases the state directory's lock.
            using var partsStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            Task[] parts = [reporter.RunAsync(partsStop.Token), actor.RunAsync(partsStop.Token), watch.RunAsync(partsStop.Token)];
            var first = await Task.WhenAny(parts);
            await partsStop.CancelAsync();
            await Task.WhenAll(parts).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await first;
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: whatever was in flight was cancelled.
        }
        catch (Exception e)
        {
            exit.Error = e.Message;
            Log.KeeperStopped(logger, e is KeeperException ? e.Message : e.ToString());
            lock (session.Gate)
            {
                // Only with the lock: the state file may belong to another keeper that runs.
                if (_lock is not null && session.StateFileExists) session.Save((session.LoadStateFile() ?? session.State) with { LastError = e.Message });
            }
            exit.Code = 1;
            // Not while the host is still starting (that would fail its start): once it has started.
            lifetime.ApplicationStarted.Register(lifetime.StopApplication);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Only a keeper that started up owns the PostgreSQL it would stop (not another keeper's, not a refused data directory's).
        if (_started && options.StopPostgresOnExit && server.IsPostmasterAlive())
        {
            Log.StoppingPostgresOnExit(logger);
            await server.StopAsync(cancellationToken);
        }
        _lock?.Dispose();
        _lock = null;
        await watch.DisposeAsync();
    }

    public override void Dispose()
    {
        _lock?.Dispose();
        base.Dispose();
    }

    /// <summary>One keeper per data directory: an exclusive lock on a file in the state directory, held for the keeper's life.</summary>
    private void TakeLock()
    {
        Directory.CreateDirectory(options.ResolvedStateDirectory);
        var path = Path.Combine(options.ResolvedStateDirectory, "keeper.pid");
        try
        {
            _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            _lock.SetLength(0);
            _lock.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId + "\n"));
            _lock.Flush();
        }
        catch (IOException)
        {
            throw new KeeperException($"another keeper runs for {options.PgData} (lock {path} is held)");
        }
    }

    private async Task StartUpAsync(CancellationToken ct)
    {
        TakeLock();
        var existing = session.LoadStateFile();
        if (existing is null)
        {
            if (!options.Create) throw new KeeperException($"no state file {options.StateFile}: run keeper create first");
            existing = await registration.RegisterAsync(session, ct);
        }
        // A new run: reports of an earlier one still queued on the broker are older than every report of this one.
        session.Save(existing with { ReportEpoch = existing.ReportEpoch + 1 });
        session.InheritLease();
        var state = session.Snapshot();
        await primary.CheckSystemIdentifierAsync(state, ct);
        await identity.AnnounceChangesAsync(ct);
        state = session.Snapshot();
        if (server.IsPostmasterAlive() && !KeeperStates.IsWritable(state.CurrentState) && KeeperStates.MustBeStopped(state.CurrentState))
        {
            Log.StoppingPostgresOfStoppedNode(logger, KeeperStates.Name(state.CurrentState));
            await server.StopAsync(ct);
        }
        // A server this keeper finds running (a previous keeper's, or one it adopted) obeys the lease as one it starts;
        // one still waiting to be adopted (init) is not the keeper's yet: its keeper's death must not stop it.
        if (state.CurrentState != NodeState.Init) server.EnsureLeaseGuard();
        Log.KeeperStarted(logger, state.NodeId, state.NodeName, state.Formation, state.GroupId, KeeperStates.Name(state.CurrentState), KeeperStates.Name(state.AssignedState));
        _started = true;
        _ = goals.ConnectGoalQueueAsync(ct);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Critical, Message = "Keeper stopped: {Error}")]
        public static partial void KeeperStopped(ILogger logger, string error);

        [LoggerMessage(Level = LogLevel.Information, Message = "Keeper stopping: stopping PostgreSQL")]
        public static partial void StoppingPostgresOnExit(ILogger logger);

        [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL runs although the node is {State}: stopping it")]
        public static partial void StoppingPostgresOfStoppedNode(ILogger logger, string state);

        [LoggerMessage(Level = LogLevel.Information, Message = "Keeper for node {NodeId} ({Name}) in formation {Formation} group {Group}: current state {Current}, assigned {Assigned}")]
        public static partial void KeeperStarted(ILogger logger, long nodeId, string name, string formation, int group, string current, string assigned);
    }
}
