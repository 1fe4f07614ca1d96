using System.Net;
using System.Net.Sockets;
using System.Text;
using PgAutoFailover.Cli.Formatting;

namespace PgAutoFailover.Cli;

/// <summary>Asks the uri-service for a formation's connection string: GET {base}/formations/{formation}/uri.</summary>
public static class UriServiceClient
{
    public const string Default = "http://127.0.0.1:7103";

    public static string Resolve(string? option, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(option)) return option.Trim();
        var fromEnvironment = environment("PGAF_URI_SERVICE");
        return string.IsNullOrWhiteSpace(fromEnvironment) ? Default : fromEnvironment.Trim();
    }

    public static async Task<string> GetUriAsync(string baseUrl, string formation, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
            throw new CliFailure(ExitCodes.BadArguments, $"the uri-service address \"{baseUrl}\" is not an http:// or https:// URL");

        var address = new Uri(root, $"formations/{Uri.EscapeDataString(formation)}/uri");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        ReadOnlyHttp.Response response;
        try
        {
            response = await ReadOnlyHttp.GetAsync(address, timeout, timeout, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliFailure(ExitCodes.Unreachable, $"no answer from the uri-service at {root} within {MonitorClient.Seconds(timeout)} s");
        }
        catch (Exception error) when (error is SocketException or IOException or InvalidDataException)
        {
            throw new CliFailure(ExitCodes.Unreachable,
                $"the uri-service at {root} is not reachable ({error.Message.ReplaceLineEndings(" ")}); is it running? (set --uri-service or PGAF_URI_SERVICE)");
        }

        var body = Encoding.UTF8.GetString(response.Body);
        if (response.Status is < 200 or > 299)
        {
            var why = UriView.ParseError(body) ?? $"HTTP {response.Status} {response.Reason}".TrimEnd();
            throw response.Status is (int)HttpStatusCode.NotFound or (int)HttpStatusCode.BadRequest or (int)HttpStatusCode.Conflict
                ? new CliFailure(ExitCodes.Refused, $"uri-service: {why}")
                : new CliFailure(ExitCodes.Unreachable, $"the uri-service at {root} failed: {why}");
        }
        return UriView.ParseAnswer(body)
            ?? throw new CliFailure(ExitCodes.Unreachable, $"the uri-service at {root} answered without a connection string");
    }
}
