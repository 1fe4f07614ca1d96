
namespace PgAutoFailover.Cli.Tests;

/// <summary>One in-process run of pgaf: its exit code and what it wrote.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}

public static class CliRun
{
    /// <summary>Runs pgaf's entry point with a fixed environment (no RABBITMQ_URL leaks in from the test process).</summary>
    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args) =>
        RunAsync(environment, CancellationToken.None, args);

    public static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?>? environment, CancellationToken cancellationToken, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await PgafApp.RunAsync(args, stdout, stderr,
            new PgafEnvironment(environment ?? new Dictionary<string, string?>()), cancellationToken);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(null, args);

    /// <summary>Every line pgaf wrote to stderr; a failure must be exactly one, starting with "pgaf: ".</summary>
    public static string SingleErrorLine(CliResult result)
    {
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one error line: {result}");
        Assert.StartsWith("pgaf: ", lines[0]);
        Assert.DoesNotContain("   at ", result.Stderr);
        return lines[0].TrimEnd('\r');
    }
}
