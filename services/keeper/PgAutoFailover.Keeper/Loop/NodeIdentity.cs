using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Monitor;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>
/// The node's name, host and port: the settings say what they should be, the state file what the monitor holds
/// (services/keeper/README.md step 2, update_node_metadata). A change is taken only once the monitor took it.
/// </summary>
public sealed partial class NodeIdentity(KeeperOptions options, KeeperSession session, PostgresServer server, MonitorClient monitor,
    TimeProvider clock, ILogger<NodeIdentity> logger)
{
    /// <summary>
    /// At start: name, host or port changed in the settings while the keeper was down. The monitor hears of it
    /// before PostgreSQL starts, so the health-checker probes, the standbys connect and applications are sent where
    /// the node will listen. A new port while PostgreSQL still runs on the old one cannot be taken; neither can what
    /// the monitor refuses: the keeper goes on with the values the monitor holds.
    /// </summary>
    public async Task AnnounceChangesAsync(CancellationToken ct)
    {
        var state = session.Snapshot();
        if (state.Host is null || state.Port is not { } heldPort)
        {
            // A state file from before the address was kept: the settings are the best knowledge there is.
            session.Update(s => s with { Host = options.Host, Port = options.Port });
            return;
        }
        if (options.Port != heldPort && server.IsPostmasterAlive())
        {
            Log.PortChangeDeferred(logger, heldPort, options.Port);
            options.Port = heldPort;
        }
        if (Change() is not { } request) return;
        while (true)
        {
            try
            {
                var answer = await monitor.UpdateNodeMetadataAsync(request, ct);
                Log.IdentityTaken(logger, Describe(request), answer);
                Taken(request);
                return;
            }
            catch (KeeperException e)
            {
                Log.IdentityRefused(logger, Describe(request), state.NodeName, state.Host, heldPort, e.Message);
                KeepHeld();
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is MassTransit.RequestTimeoutException or OperationCanceledException or MassTransit.RequestFaultException)
            {
                // PostgreSQL must not start at an address the monitor does not know: wait for it.
                Log.IdentityUnanswered(logger, Describe(request), e.Message);
                await Task.Delay(options.LoopPeriod, clock, ct);
            }
        }
    }

    /// <summary>
    /// The name, host and port in the settings that differ from the ones the monitor holds (kept in the state file),
    /// as the request that tells it; null when nothing differs or the state does not know them yet.
    /// </summary>
    public UpdateNodeMetadata? Change()
    {
        var held = session.Snapshot();
        if (held.Host is null || held.Port is null) return null;
        var request = new UpdateNodeMetadata(held.Formation, held.GroupId, held.NodeId,
            options.Name is { Length: > 0 } name && name != held.NodeName ? name : null,
            options.Host != held.Host ? options.Host : null,
            options.Port != held.Port ? options.Port : null);
        return request is { Name: null, Host: null, Port: null } ? null : request;
    }

    public string Describe(UpdateNodeMetadata request)
    {
        var held = session.Snapshot();
        return $"\"{request.Name ?? held.NodeName}\" ({request.Host ?? held.Host}:{request.Port ?? held.Port})";
    }

    /// <summary>The monitor took <paramref name="request"/>: the state file holds the identity the monitor now holds.</summary>
    public void Taken(UpdateNodeMetadata request) =>
        session.Update(s => s with { NodeName = request.Name ?? s.NodeName, Host = request.Host ?? s.Host, Port = request.Port ?? s.Port });

    /// <summary>The monitor did not take a change: run with the identity it holds (a later reload or restart asks again).</summary>
    public void KeepHeld()
    {
        var held = session.Snapshot();
        (options.Name, options.Host, options.Port) = (held.NodeName, held.Host ?? options.Host, held.Port ?? options.Port);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Port changed from {OldPort} to {NewPort} but PostgreSQL still runs on port {OldPort}: staying there; stop PostgreSQL and restart the keeper to move the node")]
        public static partial void PortChangeDeferred(ILogger logger, int oldPort, int newPort);

        [LoggerMessage(Level = LogLevel.Information, Message = "Settings changed since the last run: the monitor took {Identity}: {Answer}")]
        public static partial void IdentityTaken(ILogger logger, string identity, string answer);

        [LoggerMessage(Level = LogLevel.Error, Message = "Settings changed since the last run but the monitor did not take {Identity}, so the node stays \"{Name}\" at {Host}:{Port}: {Error}")]
        public static partial void IdentityRefused(ILogger logger, string identity, string name, string host, int port, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The monitor did not answer the update of {Identity} ({Error}); retrying")]
        public static partial void IdentityUnanswered(ILogger logger, string identity, string error);
    }
}
