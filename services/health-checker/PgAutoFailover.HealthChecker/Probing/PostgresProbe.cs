using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.HealthChecker.Probing;

/// <summary>
/// One protocol-level connection to a node: connect (no pooling, so a dead server cannot hide
/// behind an open connection), ask pg_is_in_recovery(), disconnect.
/// </summary>
public sealed class PostgresProbe(IOptions<HealthCheckerOptions> options, TimeProvider time)
{
    public async Task<NodeProbed> ProbeAsync(NodeAddress node, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = node.Host,
            Port = node.Port,
            Username = settings.Username,
            Password = string.IsNullOrEmpty(settings.Password) ? null : settings.Password,
            Database = settings.Database,
            Pooling = false,
            // Npgsql counts whole seconds; the sub-second bound is the cancellation below.
            Timeout = Math.Max(1, (int)Math.Ceiling(settings.ProbeTimeout.TotalSeconds)),
            ApplicationName = "pgaf-health-checker",
        }.ConnectionString;

        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.ProbeTimeout);
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(timeout.Token);
            await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
            var inRecovery = (bool)(await command.ExecuteScalarAsync(timeout.Token))!;
            return Result(node, settings, started, error: null, inRecovery);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Result(node, settings, started, $"no answer within {settings.ProbeTimeout.TotalMilliseconds:0} ms", null);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return Result(node, settings, started, Describe(e), null);
        }
    }

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

    private NodeProbed Result(NodeAddress node, HealthCheckerOptions settings, long started, string? error, bool? inRecovery) =>
        new(node, error is null, error, Stopwatch.GetElapsedTime(started), settings.CheckerId, time.GetUtcNow(), inRecovery);
}
