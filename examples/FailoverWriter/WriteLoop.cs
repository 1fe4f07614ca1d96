using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Npgsql;
using PgAutoFailover.Client;

namespace FailoverWriter;

/// <summary>
/// One INSERT per transaction through the read-write data source, each on a connection opened for it (from the
/// pool), as a web request would; every failure is counted and the next write retried after the interval. Prints each
/// outage when the first write after it is acknowledged.
/// </summary>
internal sealed class WriteLoop(PgAutoFailoverDataSource source, WriterSettings settings, IHostApplicationLifetime lifetime) : BackgroundService
{
    private const string Table = "pgaf_example_writes";

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var tracker = new OutageTracker();
        await using var acks = settings.AcksFile is null ? null : new StreamWriter(settings.AcksFile, append: true) { AutoFlush = true };
        var id = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000; // a new range per run: runs may share the table
        var tableReady = false;
        while (!stop.IsCancellationRequested && (settings.Duration is not { } d || clock.Elapsed < d))
        {
            try
            {
                await using var connection = await source.OpenReadWriteAsync(stop);
                if (!tableReady)
                {
                    await using var create = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS {Table} (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())", connection);
                    await create.ExecuteNonQueryAsync(stop);
                    tableReady = true;
                }
                await using var insert = new NpgsqlCommand($"INSERT INTO {Table} (id) VALUES ($1) RETURNING current_setting('port')::int", connection);
                insert.Parameters.Add(new NpgsqlParameter { Value = ++id });
                var port = (int)(await insert.ExecuteScalarAsync(stop))!;
                if (acks is not null) await acks.WriteLineAsync($"{id} {port} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
                if (tracker.Acknowledged(clock.Elapsed, port) is { } outage) Print(outage);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
            {
                tracker.Failed(e.Message.ReplaceLineEndings(" "));
            }
            try { await Task.Delay(settings.Interval, stop); }
            catch (OperationCanceledException) { break; }
        }
        lifetime.StopApplication();
    }

    private void Print(OutageTracker.Outage outage)
    {
        Console.WriteLine(settings.Json
            ? JsonSerializer.Serialize(new { outage_s = Math.Round(outage.Length.TotalSeconds, 3), from_port = outage.FromPort, to_port = outage.ToPort, failed_attempts = outage.FailedAttempts, first_error = outage.FirstError })
            : $"write outage {outage.Length.TotalSeconds:F3} s: port {outage.FromPort} -> {outage.ToPort}, {outage.FailedAttempts} failed attempts (first: {outage.FirstError})");
    }
}
