using System.Diagnostics;
using System.Text;

namespace PgAutoFailover.Testing;

/// <summary>Runs a command to completion, capturing its output; as the given OS user when we are root.</summary>
public static class ProcessRunner
{
    public static bool IsRoot => Environment.UserName == "root";

    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Combined => (StandardOutput + Environment.NewLine + StandardError).Trim();
    }

    /// <summary>Runs <paramref name="file"/> as <paramref name="asUser"/> (through runuser) when we are root, else as ourselves.</summary>
    public static Task<Result> RunAsAsync(string? asUser, string file, IEnumerable<string> args, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        if (asUser is not null && IsRoot)
        {
            var wrapped = new List<string> { "-u", asUser, "--" };
            if (environment is { Count: > 0 })
            {
                wrapped.Add("env");
                wrapped.AddRange(environment.Select(kv => $"{kv.Key}={kv.Value}"));
            }
            wrapped.Add(file);
            wrapped.AddRange(args);
            return RunAsync("runuser", wrapped, timeout);
        }
        return RunAsync(file, args, timeout, environment);
    }

    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        if (environment is not null)
        {
            foreach (var (key, value) in environment) info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}: {stderr}");
        }
        process.WaitForExit(); // flush the asynchronous readers
        return new Result(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    public static async Task<Result> CheckedAsync(Task<Result> run, string what)
    {
        var result = await run;
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed with exit code {result.ExitCode}: {result.Combined}");
        }
        return result;
    }
}
