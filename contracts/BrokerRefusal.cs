using System.Text.RegularExpressions;

namespace PgAutoFailover.Contracts;

/// <summary>
/// Whether a failure to connect to RabbitMQ is the broker refusing this client, which no retry mends, and why in an
/// operator's words. The client library reports a refused password as "None of the specified endpoints were
/// reachable"; the cause is further down the chain. Reads types by name and messages, so it needs no client library.
/// </summary>
public static partial class BrokerRefusal
{
    /// <summary>The exit code (<see cref="ServiceExitCodes"/>) and reason of a refusal, or null for anything a retry may mend.</summary>
    public static (int ExitCode, string Reason)? Classify(Exception error)
    {
        var chain = Chain(error).ToList();
        // A channel closed for a missing permission also says ACCESS_REFUSED: the login worked, the password is fine.
        if (chain.Select(e => PermissionRefused().Match(e.Message)).FirstOrDefault(m => m.Success) is { } permission)
            return (ServiceExitCodes.Refused, $"the broker refused user \"{permission.Groups["user"].Value}\" {permission.Groups["what"].Value} " +
                                               "(a permission its broker user lacks)");
        if (chain.Any(e => e.GetType().Name == "AuthenticationFailureException" || e.Message.Contains("ACCESS_REFUSED", StringComparison.Ordinal)))
            return (ServiceExitCodes.Refused, "the broker refused the user name or password");
        if (chain.Select(e => VirtualHostNotFound().Match(e.Message)).FirstOrDefault(m => m.Success) is { } vhost)
            return (ServiceExitCodes.BadSettings, $"the broker has no virtual host \"{vhost.Groups["vhost"].Value}\"");
        if (chain.Any(e => e.Message.Contains("NOT_ALLOWED", StringComparison.Ordinal) && e.Message.Contains("vhost", StringComparison.Ordinal)))
            return (ServiceExitCodes.Refused, "the broker does not let this user into its virtual host");
        return null;
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException { InnerExceptions.Count: > 1 } many)
            {
                foreach (var inner in many.InnerExceptions.SelectMany(Chain)) yield return inner;
            }
        }
    }

    [GeneratedRegex(@"ACCESS_REFUSED - (?<what>(?:\w+ )?access to .+? in vhost '[^']*') refused for user '(?<user>[^']*)'")]
    private static partial Regex PermissionRefused();

    [GeneratedRegex(@"vhost (?<vhost>\S+) not found")]
    private static partial Regex VirtualHostNotFound();
}
