using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace PgAutoFailover.Testing.EndToEnd;

/// <summary>
/// A continuous write load through the formation's multi-host uri (as an application would use it), or through any
/// other way of opening a connection (a proxy, a data source): one INSERT of an increasing id per transaction, one
/// every <see cref="Interval"/>, on a connection kept open and re-opened after any failure. Every acknowledged id is
/// recorded with the monotonic time of its acknowledgement and the port of the PostgreSQL server that took it (asked
/// of the server: behind a proxy the client's own port says nothing); an id whose commit failed is never reused. It
/// stops by itself after the maximum duration.
/// </summary>
public sealed class WriteLoad : IAsyncDisposable
{
    public const string Table = "pgaf_e2e_writes";
    private readonly Func<CancellationToken, ValueTask<NpgsqlConnection>> _open;
    private readonly ConcurrentQueue<Ack> _acks = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _attempts;
    private static int _instances;
    private readonly long _firstId = Interlocked.Increment(ref _instances) * 1_000_000_000L;
    private long _failures;
    private string? _lastError;

    public readonly record struct Ack(long Id, TimeSpan At, int Port);

    private WriteLoad(Func<CancellationToken, ValueTask<NpgsqlConnection>> open, TimeSpan interval)
    {
        _open = open;
        Interval = interval;
    }

    public TimeSpan Interval { get; }
    public static Stopwatch Clock { get; } = Stopwatch.StartNew();
    public IReadOnlyList<Ack> Acks => _acks.ToList();
    public long Attempts => Interlocked.Read(ref _attempts);
    public long Failures => Interlocked.Read(ref _failures);
    public string? LastError => _lastError;

    /// <summary>postgres://h1:p1,h2:p2/db?target_session_attrs=read-write&amp;… → an Npgsql connection string.</summary>
    public static string ToNpgsql(string uri, int timeoutSeconds = 2, int commandTimeoutSeconds = 5)
    {
        const string scheme = "postgres://";
        var rest = uri.StartsWith(scheme, StringComparison.Ordinal) ? uri[scheme.Length..]
            : uri.StartsWith("postgresql://", StringComparison.Ordinal) ? uri["postgresql://".Length..]
            : throw new FormatException($"not a postgres uri: {uri}");
        var query = "";
        if (rest.IndexOf('?') is var q and >= 0) { query = rest[(q + 1)..]; rest = rest[..q]; }
        var slash = rest.IndexOf('/');
        var hosts = slash >= 0 ? rest[..slash] : rest;
        var database = slash >= 0 ? Uri.UnescapeDataString(rest[(slash + 1)..]) : "postgres";
        if (hosts.Contains('@')) hosts = hosts[(hosts.IndexOf('@') + 1)..];
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = hosts,                      // "h1:p1,h2:p2": Npgsql takes a port per host
            Database = database.Length > 0 ? database : "postgres",
            Username = "postgres",
            Pooling = false,
            Timeout = timeoutSeconds,
            CommandTimeout = commandTimeoutSeconds,
            HostRecheckSeconds = 0,            // like libpq: check every host on every connect (Npgsql caches a host's role for 10 s by default)
            TargetSessionAttributes = "read-write",
        };
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (kv[0])
            {
                case "target_session_attrs": builder.TargetSessionAttributes = value; break;
                case "sslmode": builder.SslMode = Enum.Parse<SslMode>(value.Replace("-", ""), ignoreCase: true); break;
                case "dbname": builder.Database = value; break;
            }
        }
        return builder.ConnectionString;
    }

    /// <summary>Creates the table on <paramref name="primary"/> and starts writing through <paramref name="uri"/>.</summary>
    public static Task<WriteLoad> StartAsync(DataNode primary, string uri, TimeSpan interval, TimeSpan maxDuration) =>
        StartAsync(primary, Opener(ToNpgsql(uri)), interval, maxDuration);

    /// <summary>Opens a new connection with <paramref name="connectionString"/> each time (a direct or proxied address).</summary>
    public static Func<CancellationToken, ValueTask<NpgsqlConnection>> Opener(string connectionString) => async token =>
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(token);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    };

    /// <summary>Creates the table on <paramref name="primary"/> and starts writing on the connections <paramref name="open"/> gives.</summary>
    public static async Task<WriteLoad> StartAsync(DataNode primary, Func<CancellationToken, ValueTask<NpgsqlConnection>> open, TimeSpan interval, TimeSpan maxDuration)
    {
        await using (var c = new NpgsqlConnection(primary.ConnectionString()))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS {Table} (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())", c);
            await cmd.ExecuteNonQueryAsync();
        }
        var load = new WriteLoad(open, interval);
        load._loop = Task.Run(() => load.RunAsync(maxDuration));
        return load;
    }

    private async Task RunAsync(TimeSpan maxDuration)
    {
        var until = Clock.Elapsed + maxDuration;
        var token = _stop.Token;
        NpgsqlConnection? connection = null;
        var next = _firstId; // each load its own id range: two loads may share the table
        try
        {
            while (!token.IsCancellationRequested && Clock.Elapsed < until)
            {
                try
                {
                    connection ??= await _open(token);
                    var id = ++next;
                    Interlocked.Increment(ref _attempts);
                    int port;
                    await using (var cmd = new NpgsqlCommand($"INSERT INTO {Table} (id) VALUES ($1) RETURNING current_setting('port')::int", connection))
                    {
                        cmd.Parameters.Add(new NpgsqlParameter { Value = id });
                        port = (int)(await cmd.ExecuteScalarAsync(token))!;
                    }
                    _acks.Enqueue(new Ack(id, Clock.Elapsed, port));
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
                {
                    Interlocked.Increment(ref _failures);
                    _lastError = e.Message;
                    if (connection is not null) await connection.DisposeAsync();
                    connection = null;
                }
                catch (OperationCanceledException) { break; }
                try { await Task.Delay(Interval, token); } catch (OperationCanceledException) { break; }
            }
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    /// <summary>Stops the loop and waits for it (an INSERT in flight ends within the command timeout).</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        if (_loop is not null) await _loop;
    }

    /// <summary>Waits until <paramref name="count"/> writes were acknowledged after <paramref name="after"/>.</summary>
    public Task WaitAcksAfterAsync(TimeSpan after, int count, string what, TimeSpan? timeout = null) =>
        Eventually.TrueAsync(() => Task.FromResult(_acks.Count(a => a.At > after) >= count),
            $"{count} acknowledged writes after {what} (attempts {Attempts}, failures {Failures}, last error: {LastError})", timeout ?? TimeSpan.FromSeconds(120));

    /// <summary>
    /// The write-unavailability window of a fault on the primary listening on <paramref name="oldPort"/>: from the
    /// last write acknowledged by the old primary to the first acknowledged by another node after
    /// <paramref name="fault"/> (the kill itself takes a few milliseconds, during which the old primary may still acknowledge).
    /// </summary>
    public TimeSpan? Window(TimeSpan fault, int oldPort)
    {
        var acks = Acks;
        var first = acks.Where(a => a.At > fault && a.Port != oldPort).Select(a => (TimeSpan?)a.At).FirstOrDefault();
        if (first is not { } f) return null;
        var last = acks.Where(a => a.At < f && a.Port == oldPort).Select(a => (TimeSpan?)a.At).LastOrDefault();
        return last is { } l ? f - l : null;
    }

    /// <summary>Acknowledged ids missing from <paramref name="node"/>'s table.</summary>
    public async Task<List<long>> MissingOnAsync(DataNode node)
    {
        var present = (await node.ColumnAsync($"SELECT id FROM {Table}")).ToHashSet();
        return Acks.Select(a => a.Id).Where(id => !present.Contains(id)).ToList();
    }

    /// <summary>Waits until <paramref name="node"/> holds every acknowledged id (a standby catching up); returns what is still missing at the deadline.</summary>
    public async Task<List<long>> MissingAfterCatchUpAsync(DataNode node, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            List<long> missing;
            try { missing = await MissingOnAsync(node); }
            catch (NpgsqlException) { missing = [-1]; }
            if (missing.Count == 0 || DateTime.UtcNow > deadline) return missing;
            await Task.Delay(200);
        }
    }

    public string Summary => $"{_acks.Count} acknowledged of {Attempts} attempts, {Failures} failures (last: {LastError})";

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
