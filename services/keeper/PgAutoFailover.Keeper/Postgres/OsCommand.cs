using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>Result of a finished command.</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string Combined => (StandardOutput + Environment.NewLine + StandardError).Trim();
}

/// <summary>Runs a command to completion as the PostgreSQL OS user (through runuser when we are root), capturing output.</summary>
public sealed class OsCommand(string osUser)
{
    public static bool IsRoot => Environment.UserName == "root";
    public string OsUser { get; } = osUser;

    public async Task<CommandResult> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout, CancellationToken cancellationToken,
        IDictionary<string, string>? environment = null, Action<string>? onLine = null, bool asPostgres = true)
    {
        var info = StartInfo(file, args, environment, asPostgres);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is null) return; lock (stdout) stdout.AppendLine(e.Data); onLine?.Invoke(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is null) return; lock (stderr) stderr.AppendLine(e.Data); onLine?.Invoke(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None);
            if (cancellationToken.IsCancellationRequested) throw;
            throw new TimeoutException($"{Path.GetFileName(file)} did not finish within {timeout}: {stderr}");
        }
        process.WaitForExit();
        return new CommandResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    public async Task<CommandResult> CheckedAsync(string what, string file, IEnumerable<string> args, TimeSpan timeout, CancellationToken cancellationToken,
        IDictionary<string, string>? environment = null, Action<string>? onLine = null)
    {
        var result = await RunAsync(file, args, timeout, cancellationToken, environment, onLine);
        if (result.ExitCode != 0) throw new KeeperException($"{what} failed (exit code {result.ExitCode}): {Tail(result.Combined, 15)}");
        return result;
    }

    /// <summary>A start info that runs <paramref name="file"/> as the PostgreSQL user when root.</summary>
    public ProcessStartInfo StartInfo(string file, IEnumerable<string> args, IDictionary<string, string>? environment = null, bool asPostgres = true)
    {
        var wrap = asPostgres && IsRoot;
        var info = new ProcessStartInfo(wrap ? "runuser" : file) { UseShellExecute = false };
        if (wrap)
        {
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add(OsUser);
            info.ArgumentList.Add("--");
            if (environment is { Count: > 0 })
            {
                // runuser resets nothing we need, but be explicit: pass the variables through env.
                info.ArgumentList.Add("env");
                foreach (var (k, v) in environment) info.ArgumentList.Add($"{k}={v}");
            }
            info.ArgumentList.Add(file);
        }
        else if (environment is not null)
        {
            foreach (var (k, v) in environment) info.Environment[k] = v;
        }
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return info;
    }

    public static string Tail(string text, int lines) => string.Join('\n', text.Trim().Split('\n').TakeLast(lines));

    [DllImport("libc", SetLastError = true, EntryPoint = "chown")]
    private static extern int NativeChown(string path, int owner, int group);

    private (int Uid, int Gid)? _ids;

    /// <summary>Gives a file or directory we wrote (as root) to the PostgreSQL user.</summary>
    public void GiveToPostgres(string path)
    {
        if (!IsRoot) return;
        _ids ??= LookupIds(OsUser);
        if (NativeChown(path, _ids.Value.Uid, _ids.Value.Gid) != 0)
        {
            throw new KeeperException($"chown {path} to {OsUser} failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    private static (int, int) LookupIds(string user)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var f = line.Split(':');
            if (f.Length > 3 && f[0] == user) return (int.Parse(f[2]), int.Parse(f[3]));
        }
        throw new KeeperException($"OS user {user} does not exist: PostgreSQL cannot run as root");
    }
}

/// <summary>An error with a message for the operator (logged and kept in the state file).</summary>
public sealed class KeeperException(string message, Exception? inner = null) : Exception(message, inner);
