using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace PgAutoFailover.Client;

/// <summary>
/// A data source that follows a formation's primary. Its hosts come from the uri-service and are kept current from
/// the service's watch stream: when the primary changes, every role Npgsql cached is forgotten and idle connections
/// are closed, so the next open finds the new primary at once instead of after Npgsql's host recheck (10 s by
/// default); when the formation's nodes change, the data sources are rebuilt over the new hosts. While the
/// uri-service is down it keeps working from the last hosts it gave (libpq-style multi-host connection: Npgsql itself
/// finds the writable node among them).
/// As a <see cref="DbDataSource"/> it opens read-write connections; <see cref="ReadWrite"/> and
/// <see cref="ReadOnly"/> (prefers a standby) are the current Npgsql data sources. Read those properties each time
/// rather than keeping what they return: a rebuild replaces them.
/// </summary>
public sealed partial class PgAutoFailoverDataSource : DbDataSource
{
    private readonly PgAutoFailoverClientOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly List<NpgsqlMultiHostDataSource> _retired = [];
    private Sources? _current;
    private Task? _follow;
    private bool _disposed;

    private sealed record Sources(string HostSet, NpgsqlMultiHostDataSource MultiHost, NpgsqlDataSource ReadWrite, NpgsqlDataSource ReadOnly);

    /// <param name="options">Where to find the uri-service, and the connection settings.</param>
    /// <param name="http">Used for the uri-service; one is made (and disposed) when null.</param>
    /// <param name="time">Clock of the reconnect delays.</param>
    /// <param name="logger">Where changes of primary and hosts, and uri-service outages, are logged.</param>
    public PgAutoFailoverDataSource(PgAutoFailoverClientOptions options, HttpClient? http = null, TimeProvider? time = null, ILogger<PgAutoFailoverDataSource>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Problems() is { Count: > 0 } problems) throw new ArgumentException(string.Join("; ", problems), nameof(options));
        _options = options;
        _ownsHttp = http is null;
        // The watch stream is long-lived: no overall timeout on it; the first answer is bounded by StartupTimeout.
        _http = http ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _time = time ?? TimeProvider.System;
        _log = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The current read-write data source (target_session_attrs=read-write).</summary>
    public NpgsqlDataSource ReadWrite => Current.ReadWrite;

    /// <summary>The current read-only data source: a standby when one is up, else the primary.</summary>
    public NpgsqlDataSource ReadOnly => Current.ReadOnly;

    /// <summary>The last answer the uri-service gave; null before the first, or when started from the fallback.</summary>
    public UriServiceAnswer? LastAnswer { get; private set; }

    /// <summary>Raised after an answer of the uri-service was applied (a new primary, new hosts, or the first answer).</summary>
    public event EventHandler<UriServiceAnswer>? AnswerApplied;

    /// <inheritdoc />
    public override string ConnectionString => Current.ReadWrite.ConnectionString;

    /// <summary>Opens a read-write connection to the current primary.</summary>
    public ValueTask<NpgsqlConnection> OpenReadWriteAsync(CancellationToken cancellation = default) => Current.ReadWrite.OpenConnectionAsync(cancellation);

    /// <summary>Opens a read-only connection, to a standby when one is up.</summary>
    public ValueTask<NpgsqlConnection> OpenReadOnlyAsync(CancellationToken cancellation = default) => Current.ReadOnly.OpenConnectionAsync(cancellation);

    /// <inheritdoc />
    protected override DbConnection CreateDbConnection() => Current.ReadWrite.CreateConnection();

    private Sources Current => Volatile.Read(ref _current)
        ?? throw new InvalidOperationException("PgAutoFailoverDataSource is not started: call StartAsync (the hosted service does) first");

    /// <summary>
    /// Takes the hosts from the uri-service (or the fallback when it does not answer within the startup timeout) and
    /// starts following its watch stream. Throws when neither gives hosts.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_current is not null) return;
        if (_options.UriServiceUrl is not { } url)
        {
            ApplyFallback("no uri-service is configured");
            return;
        }
        var client = Client(url);
        var first = await FirstAnswerAsync(client, cancellation);
        if (first.Answer is { } answer) Apply(answer);
        else if (!string.IsNullOrWhiteSpace(_options.FallbackConnectionString)) ApplyFallback(first.Error!);
        else throw new InvalidOperationException($"the uri-service at {url} gave no hosts for formation \"{_options.Formation}\" within {_options.StartupTimeout.TotalSeconds:0.#} s: {first.Error}");
        _follow = Task.Run(() => FollowAsync(client, _stop.Token), CancellationToken.None);
    }

    /// <summary>Stops following the uri-service; the data sources keep their last hosts until disposed.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_follow is { } follow)
        {
            try { await follow; }
            catch (OperationCanceledException) { }
        }
    }

    private UriServiceClient Client(Uri url) => new(_http, url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/"), _options.Formation);

    private async Task<(UriServiceAnswer? Answer, string? Error)> FirstAnswerAsync(UriServiceClient client, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(_options.StartupTimeout);
        var delay = _options.ReconnectDelay;
        var error = "no answer";
        while (true)
        {
            try
            {
                return (await client.GetAsync(deadline.Token), null);
            }
            catch (Exception e) when (UriServiceFollower.IsUnreachable(e) && !cancellation.IsCancellationRequested)
            {
                if (e is not OperationCanceledException) error = UriServiceFollower.OneLine(e); // a timeout keeps the error before it
            }
            if (deadline.IsCancellationRequested) return (null, error);
            try { await Task.Delay(delay, _time, deadline.Token); }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested) { return (null, error); }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    private Task FollowAsync(UriServiceClient client, CancellationToken stop) =>
        new UriServiceFollower(client, _options.ReconnectDelay, _options.MaxReconnectDelay, _time, _log)
            .RunAsync((answer, _) => { Apply(answer); return Task.CompletedTask; }, stop);

    private void ApplyFallback(string why)
    {
        var fallback = _options.FallbackConnectionString
            ?? throw new InvalidOperationException($"no hosts: {why}, and no FallbackConnectionString is set");
        lock (_gate) Replace(Build(fallback));
        Log.UsingFallback(_log, why, HostList(fallback));
    }

    /// <summary>New hosts: new data sources. Same hosts, another primary: forget the cached roles and idle connections.</summary>
    internal void Apply(UriServiceAnswer answer)
    {
        lock (_gate)
        {
            if (_disposed) return;
            var previous = LastAnswer;
            var hostSet = HostSet(answer.Uri);
            if (_current is null || _current.HostSet != hostSet)
            {
                Replace(Build(answer.Uri));
                Log.HostsApplied(_log, _options.Formation, answer.Uri, Describe(answer.Primary), answer.Version);
            }
            else if (previous?.Primary != answer.Primary)
            {
                _current.MultiHost.ClearDatabaseStates();
                _current.MultiHost.Clear();
                Log.PrimaryChanged(_log, _options.Formation, Describe(previous?.Primary), Describe(answer.Primary), answer.Version);
            }
            LastAnswer = answer;
        }
        AnswerApplied?.Invoke(this, answer);
    }

    /// <summary>Hosts only: a fallback connection string may hold a password.</summary>
    private static string HostList(string? uriOrConnectionString) =>
        uriOrConnectionString is null ? "" : string.Join(",", MultiHostUri.Hosts(uriOrConnectionString));

    private static string Describe(PrimaryNode? primary) => primary is null ? "none" : $"{primary.Name} ({primary.Host}:{primary.Port})";

    /// <summary>The hosts without their order (the uri-service puts the primary first: a failover reorders them).</summary>
    private static string HostSet(string uri) => string.Join(",", MultiHostUri.Hosts(uri).Order(StringComparer.Ordinal));

    private Sources Build(string uriOrConnectionString)
    {
        var settings = MultiHostUri.Parse(uriOrConnectionString);
        settings.TargetSessionAttributes = null; // each data source below asks for its own
        settings.Timeout = Math.Max(1, (int)Math.Ceiling(_options.ConnectTimeout.TotalSeconds));
        settings.HostRecheckSeconds = (int)Math.Ceiling(_options.HostRecheck.TotalSeconds);
        _options.ConfigureConnection?.Invoke(settings);
        var builder = new NpgsqlDataSourceBuilder(settings.ConnectionString);
        _options.ConfigureDataSource?.Invoke(builder);
        var multiHost = builder.BuildMultiHost();
        return new Sources(HostSet(settings.ConnectionString), multiHost,
            multiHost.WithTargetSession(TargetSessionAttributes.ReadWrite),
            multiHost.WithTargetSession(TargetSessionAttributes.PreferStandby));
    }

    /// <summary>Swaps in <paramref name="next"/>; the replaced sources serve their open connections a while longer.</summary>
    private void Replace(Sources next)
    {
        var old = _current;
        Volatile.Write(ref _current, next);
        if (old is null) return;
        _retired.Add(old.MultiHost);
        _ = RetireAsync(old.MultiHost);
    }

    private async Task RetireAsync(NpgsqlMultiHostDataSource old)
    {
        try { await Task.Delay(_options.ReplacedSourceLifetime, _time, _stop.Token); }
        catch (OperationCanceledException) { return; } // disposal takes it
        lock (_gate)
        {
            if (!_retired.Remove(old)) return;
        }
        await old.DisposeAsync();
    }

    /// <inheritdoc />
    protected override async ValueTask DisposeAsyncCore()
    {
        List<NpgsqlMultiHostDataSource> toDispose;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            toDispose = [.. _retired];
            if (_current is not null) toDispose.Add(_current.MultiHost);
            _retired.Clear();
        }
        await StopAsync();
        foreach (var source in toDispose) await source.DisposeAsync();
        if (_ownsHttp) _http.Dispose();
        _stop.Dispose();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) DisposeAsyncCore().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Formation {Formation}: hosts {Uri}, primary {Primary} (topology version {Version})")]
        public static partial void HostsApplied(ILogger logger, string formation, string uri, string primary, long version);

        [LoggerMessage(2, LogLevel.Information, "Formation {Formation}: primary {Previous} -> {Primary} (topology version {Version}); cached roles and idle connections dropped")]
        public static partial void PrimaryChanged(ILogger logger, string formation, string previous, string primary, long version);

        [LoggerMessage(5, LogLevel.Warning, "Using the fallback hosts ({Why}): {Hosts}")]
        public static partial void UsingFallback(ILogger logger, string why, string hosts);
    }
}
