using System.Diagnostics;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// pgaf-run (scripts/docker/run.sh), the containers' entrypoint wrapper, with stand-in services: a service that cannot
/// start is parked with its reason for the healthcheck instead of exiting into a restart loop; any other exit passes
/// through; SIGTERM reaches the service.
/// </summary>
public sealed class RunWrapperTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pgaf-run-").FullName;
    private string FailedFile => Path.Combine(_dir, "failed");
    private static string Script(string name) => Path.Combine(ComposeTests.RepositoryRoot, "scripts", "docker", name);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Process Start(string service)
    {
        var info = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { Script("run.sh"), "sh", "-c", service }) info.ArgumentList.Add(arg);
        info.Environment["PGAF_RUN_FAILED_FILE"] = FailedFile;
        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        return process;
    }

    [Fact]
    public async Task A_service_that_cannot_start_is_parked_unhealthy_with_its_reason_and_stops_with_its_code()
    {
        using var run = Start("echo 'monitor: the broker refused the user name or password' >&2; exit 77");
        await Eventually.TrueAsync(() => Task.FromResult(File.Exists(FailedFile)), "the wrapper to park the service");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(run.HasExited, "parked, not exited into a restart");
        Assert.Equal("exit 77: monitor: the broker refused the user name or password", (await File.ReadAllTextAsync(FailedFile)).Trim());

        var health = await ProcessRunner.RunAsync("bash", [Script("healthcheck.sh"), "1"], TimeSpan.FromSeconds(30),
            new Dictionary<string, string> { ["PGAF_RUN_FAILED_FILE"] = FailedFile });
        Assert.Equal(1, health.ExitCode);
        Assert.Equal("unhealthy: exit 77: monitor: the broker refused the user name or password", health.StandardError.Trim());

        Process.Start("kill", ["-TERM", run.Id.ToString()]).WaitForExit();
        await run.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(77, run.ExitCode);
        var stderr = await run.StandardError.ReadToEndAsync();
        Assert.Contains("monitor: the broker refused the user name or password", stderr);
        Assert.Contains("not restarting it", stderr);
    }

    [Fact]
    public async Task Any_other_exit_passes_through_for_the_restart_policy()
    {
        using var run = Start("exit 3");
        await run.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, run.ExitCode);
        Assert.False(File.Exists(FailedFile));
    }

    [Fact]
    public async Task Sigterm_reaches_the_service_and_its_exit_code_is_the_containers()
    {
        using var run = Start($"trap 'echo stopping > {_dir}/stopped; exit 0' TERM; echo ready > {_dir}/ready; while :; do sleep 0.1; done");
        await Eventually.TrueAsync(() => Task.FromResult(File.Exists(Path.Combine(_dir, "ready"))), "the service to start");
        Process.Start("kill", ["-TERM", run.Id.ToString()]).WaitForExit();
        await run.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, run.ExitCode);
        Assert.True(File.Exists(Path.Combine(_dir, "stopped")), "the service got SIGTERM");
    }
}
