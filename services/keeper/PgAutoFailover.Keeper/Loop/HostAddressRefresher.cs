using PgAutoFailover.Keeper.Actions;
using System.Net;
using System.Net.Sockets;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>
/// Looks up the host names of the keeper's pg_hba block (<see cref="HbaRules.HbaHostNames"/>): a name as soon as it
/// appears there (checked every <see cref="KeeperOptions.LoopPeriod"/>), then again every
/// <see cref="KeeperOptions.HostResolvePeriod"/>, each lookup bounded by <see cref="KeeperOptions.HostResolveTimeout"/>.
/// The answers go to the <see cref="HostAddressBook"/>; the keeper loop writes pg_hba again when they change. No
/// transition ever waits for DNS. docs/operations.md#host-names-in-pg_hba.
/// </summary>
public sealed partial class HostAddressRefresher(
    HbaRules hba, HostAddressBook book, KeeperOptions options, TimeProvider time, ILogger<HostAddressRefresher> logger)
    : BackgroundService
{
    private readonly Dictionary<string, DateTimeOffset> _tried = new(StringComparer.OrdinalIgnoreCase);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.LoopPeriod, time);
        try
        {
            do
            {
                await RefreshDueAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    /// <summary>Looks up, all at once, the names never looked up and those last looked up a period ago.</summary>
    public async Task RefreshDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var due = hba.HbaHostNames().Where(n => !_tried.TryGetValue(n, out var at) || now - at >= options.HostResolvePeriod).ToList();
        foreach (var name in due) _tried[name] = now;
        await Task.WhenAll(due.Select(name => LookUpAsync(name, ct)));
    }

    private async Task<bool> LookUpAsync(string name, CancellationToken ct)
    {
        try
        {
            var found = await Dns.GetHostAddressesAsync(name, ct).WaitAsync(options.HostResolveTimeout, time, ct);
            if (!book.Record(name, found)) return false;
            LogResolved(name, string.Join(" ", book.Addresses(name)));
            return true;
        }
        catch (Exception e) when (e is SocketException or TimeoutException && !ct.IsCancellationRequested)
        {
            LogLookupFailed(name, e.Message, book.Addresses(name).Count == 0 ? "none yet: pg_hba matches it by name" : string.Join(" ", book.Addresses(name)));
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Host {Name} resolves to {Addresses}: pg_hba admits these addresses before any lookup")]
    private partial void LogResolved(string name, string addresses);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not resolve host {Name} ({Error}); pg_hba keeps its known addresses: {Addresses}")]
    private partial void LogLookupFailed(string name, string error, string addresses);
}
