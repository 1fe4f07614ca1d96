using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// Answers pgaf's read-only questions: from the monitor's HTTP read API when a monitor of this deployment
/// answers there (one request, no bus client: a few hundredths of a CPU-second instead of about 0.7), else
/// over RabbitMQ like every other command. "Of this deployment": the answer's <see cref="MonitorReadApi.BrokerHeader"/>
/// names the broker pgaf was told to use; a monitor of another cluster on the same address is never believed.
/// The request itself is <see cref="ReadOnlyHttp"/>: a call costs a socket, not an HttpClient.
/// </summary>
public sealed class MonitorReader(string monitorUrl, string brokerUrl, TimeSpan timeout, Func<Task<MonitorClient>> connectBus) : IAsyncDisposable
{
    public const string Default = "http://127.0.0.1:7101";

    /// <summary>Connecting to the monitor's HTTP port: a refused or silent port falls back to the bus quickly.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    private static readonly string BrokerHeader = MonitorReadApi.BrokerHeader.ToLowerInvariant();

    private IAsyncDisposable? _bus;

    public static string Resolve(string? option, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(option)) return option.Trim();
        var fromEnvironment = environment("PGAF_MONITOR");
        return string.IsNullOrWhiteSpace(fromEnvironment) ? Default : fromEnvironment.Trim();
    }

    /// <summary>The monitor's answer to <paramref name="query"/>; <paramref name="path"/> is the same question on the HTTP read API.</summary>
    public async Task<TResult> QueryAsync<TQuery, TResult>(TQuery query, string path, CancellationToken cancellationToken)
        where TQuery : class where TResult : class
    {
        if (await TryHttpAsync<TResult>(path, cancellationToken) is { } answer) return answer;
        return await QueryOverBusAsync<TQuery, TResult>(query, cancellationToken);
    }

    // Not inlined: MassTransit is loaded (and its start-up paid) only when the bus is really needed.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task<TResult> QueryOverBusAsync<TQuery, TResult>(TQuery query, CancellationToken cancellationToken)
        where TQuery : class where TResult : class
    {
        var bus = (MonitorClient?)_bus ?? await connectBus();
        _bus = bus;
        return await bus.QueryAsync<TQuery, TResult>(query, cancellationToken);
    }

    /// <summary>The answer over HTTP, or null when no monitor of this deployment answers there.</summary>
    private async Task<TResult?> TryHttpAsync<TResult>(string path, CancellationToken cancellationToken) where TResult : class
    {
        if (!Uri.TryCreate(monitorUrl.TrimEnd('/') + "/", UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
            throw new CliFailure(ExitCodes.BadArguments, $"the monitor address \"{monitorUrl}\" is not an http:// or https:// URL");
        string broker;
        try { broker = MonitorReadApi.BrokerIdentity(BrokerAddress.Parse(brokerUrl).Uri); }
        catch (CliFailure) { return null; } // the bus path reports a bad broker URL
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var response = await ReadOnlyHttp.GetAsync(new Uri(root, path), ConnectTimeout, timeout, deadline.Token);
            if (response.Headers.GetValueOrDefault(BrokerHeader) != broker) return null;
            if (response.Status == (int)HttpStatusCode.NotFound)
            {
                throw new CliFailure(ExitCodes.Refused, ReadApiDocument.Read<OperatorCommandRefused>(response.Body).Reason);
            }
            if (response.Status is < 200 or > 299) return null;
            return ReadApiDocument.Read<TResult>(response.Body);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null; // no answer in time: the bus path has its own timeout and message
        }
        catch (Exception e) when (e is JsonException or SocketException or IOException or InvalidDataException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null) await _bus.DisposeAsync();
    }
}
