namespace PgAutoFailover.Cli;

/// <summary>pgaf's exit codes, from pg_autoctl's where one fits (docs/operations.md).</summary>
public static class ExitCodes
{
    /// <summary>Done (also: watch ended with Ctrl-C).</summary>
    public const int Ok = 0;

    /// <summary>Bad arguments: unknown verb or option, missing or invalid value. Nothing was sent.</summary>
    public const int BadArguments = 1;

    /// <summary>The monitor (or the uri-service) refused: the command does not fit the current state. Nothing changed.</summary>
    public const int Refused = 3;

    /// <summary>The monitor, the broker or the uri-service could not be reached or did not answer in time.</summary>
    public const int Unreachable = 6;

    /// <summary>Anything unexpected (a bug): the message says what.</summary>
    public const int Internal = 12;

    /// <summary>Interrupted by Ctrl-C outside watch.</summary>
    public const int Interrupted = 130;
}

/// <summary>A failure that ends pgaf with one line on stderr and the given exit code.</summary>
public sealed class CliFailure(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
