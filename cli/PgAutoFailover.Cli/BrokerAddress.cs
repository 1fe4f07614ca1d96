using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// The RabbitMQ address: --rabbitmq, else RABBITMQ_URL, else the file RABBITMQ_URL_FILE names (as the services read
/// it, docs/operations.md#secrets), else the local broker's guest account.
/// </summary>
public static class BrokerAddress
{
    public const string Default = "amqp://guest:guest@127.0.0.1:5672/";

    public static string Resolve(string? option, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(option)) return option.Trim();
        var fromEnvironment = environment("RABBITMQ_URL");
        var file = environment("RABBITMQ_URL_FILE");
        if (string.IsNullOrWhiteSpace(file)) return string.IsNullOrWhiteSpace(fromEnvironment) ? Default : fromEnvironment.Trim();
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            throw new CliFailure(ExitCodes.BadArguments, "RABBITMQ_URL and RABBITMQ_URL_FILE are both set: give one of them");
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new CliFailure(ExitCodes.BadArguments, $"RABBITMQ_URL_FILE: cannot read \"{file}\": {e.Message}");
        }
    }

    /// <summary>The broker's node or nodes (a host list for a cluster, <see cref="BrokerNodes"/>), or a one-line failure.</summary>
    public static BrokerNodes Parse(string url)
    {
        try
        {
            return BrokerNodes.Parse(url);
        }
        catch (FormatException e)
        {
            throw new CliFailure(ExitCodes.BadArguments, $"the RabbitMQ URL \"{Redact(url)}\" is not usable: {e.Message}");
        }
    }

    /// <summary>The URL with its password replaced by ***, for messages.</summary>
    public static string Redact(string url)
    {
        var at = url.IndexOf('@');
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme) return url;
        var userInfo = url[(scheme + 3)..at];
        var colon = userInfo.IndexOf(':');
        return colon < 0 ? url : url[..(scheme + 3)] + userInfo[..colon] + ":***" + url[at..];
    }
}
