using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>
/// One probe of a node: a protocol-level connection (no pooling, so a dead server cannot hide
/// behind an open connection), SELECT pg_is_in_recovery(), disconnect — retried within the
/// period after a quick failure (<see cref="HealthCheckerOptions.Retries"/>).
/// </summary>
public sealed class PostgresProbe(IOptions<HealthCheckerOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Host, int Port), string> _connectionStrings = new();

    public async Task<NodeProbed> ProbeAsync(NodeAddress node, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var started = Stopwatch.GetTimestamp();
        var attempts = 1 + Math.Max(0, settings.Retries);
        for (var attempt = 1; ; attempt++)
        {
            var attemptStarted = Stopwatch.GetTimestamp();
            var (inRecovery, error) = await AttemptAsync(node, settings, cancellationToken);
            var latency = Stopwatch.GetElapsedTime(attemptStarted);
            var fits = Stopwatch.GetElapsedTime(started) + settings.RetryDelay + settings.ProbeTimeout <= settings.ProbePeriod;
            if (error is null || attempt >= attempts || !fits)
            {
                if (error is not null && attempt > 1) error = $"attempt {attempt}: {error}";
                return new NodeProbed(node, error is null, error, latency, settings.CheckerId, time.GetUtcNow(), inRecovery);
            }
            await Task.Delay(settings.RetryDelay, time, cancellationToken);
        }
    }

    private async Task<(bool? InRecovery, string? Error)> AttemptAsync(NodeAddress node, HealthCheckerOptions settings, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.ProbeTimeout);
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString(node, settings));
            await connection.OpenAsync(timeout.Token);
            await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
            var inRecovery = (bool)(await command.ExecuteScalarAsync(timeout.Token))!;
            return (inRecovery, null);
        }
        catch (Exception e) when (e is OperationCanceledException or NpgsqlException or TimeoutException or InvalidOperationException or IOException
                                  && !cancellationToken.IsCancellationRequested)
        {
            // Npgsql reports our cancellation during connect as "The operation has timed out": name the bound instead.
            return (null, timeout.IsCancellationRequested ? $"no answer within {settings.ProbeTimeout.TotalMilliseconds:0} ms" : Describe(e));
        }
    }

    private string ConnectionString(NodeAddress node, HealthCheckerOptions settings) =>
        _connectionStrings.GetOrAdd((node.Host, node.Port), key => new NpgsqlConnectionStringBuilder(settings.ConnectionParameters)
        {
            Host = key.Host,
            Port = key.Port,
            Username = settings.Username,
            Password = string.IsNullOrEmpty(settings.Password) ? null : settings.Password,
            Database = settings.Database,
            SslMode = settings.SslMode,
            Pooling = false,
            // Npgsql counts whole seconds; the sub-second bound is the cancellation above.
            Timeout = Math.Max(1, (int)Math.Ceiling(settings.ProbeTimeout.TotalSeconds)),
            ApplicationName = "pgaf-health-checker",
        }.ConnectionString);

    /// <summary>"Failed to connect to 127.0.0.1:5432: Connection refused": the outer message alone hides the cause.</summary>
    private static string Describe(Exception error)
    {
        var messages = new List<string>();
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (!messages.Contains(e.Message)) messages.Add(e.Message);
        }
        return string.Join(": ", messages);
    }
}
