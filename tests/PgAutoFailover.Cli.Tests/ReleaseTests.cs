using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// Issue 14 part 7: scripts/release.sh makes what a host without the .NET SDK installs (docs/install.md). The pgaf
/// tarball is unpacked into an empty folder and run with an empty environment (no dotnet on PATH, no DOTNET_ROOT);
/// the tool package installs with dotnet tool install from the folder; SHA256SUMS checks. The services' tarballs are
/// made by the same loop and not built here (a minute each on two cores).
/// </summary>
public sealed class ReleaseTests : IDisposable
{
    private const string Version = "0.0.1-test";
    private readonly string _folder = Directory.CreateTempSubdirectory("pgaf-release-").FullName;

    [Fact]
    public async Task The_pgaf_tarball_and_tool_package_install_into_empty_folders_and_run_with_their_checksums()
    {
        var artifacts = Path.Combine(_folder, "artifacts");
        var made = await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync(Path.Combine(ComposeTests.RepositoryRoot, "scripts", "release.sh"),
            ["--version", Version, "--only", "pgaf", "tool", "--out", artifacts], TimeSpan.FromMinutes(10)), "release.sh");
        var tarball = Path.Combine(artifacts, $"pgaf-{Version}-linux-x64.tar.gz");
        Assert.Contains(tarball, made.StandardOutput);
        Assert.True(File.Exists(Path.Combine(artifacts, $"PgAutoFailover.Cli.{Version}.nupkg")), made.Combined);
        var sums = File.ReadAllLines(Path.Combine(artifacts, "SHA256SUMS"));
        Assert.Contains(sums, l => l.EndsWith($"  pgaf-{Version}-linux-x64.tar.gz", StringComparison.Ordinal));
        await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("sh", ["-c", $"cd '{artifacts}' && sha256sum -c SHA256SUMS"], TimeSpan.FromMinutes(1)), "sha256sum -c");

        // A host without the SDK: unpack and run, with nothing of .NET in the environment.
        var install = Path.Combine(_folder, "opt");
        Directory.CreateDirectory(install);
        await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("tar", ["-C", install, "-xzf", tarball], TimeSpan.FromMinutes(1)), "tar");
        var pgaf = Path.Combine(install, $"pgaf-{Version}", "pgaf");
        var version = await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("env",
            ["-i", "PATH=/usr/bin:/bin", $"HOME={_folder}", "DOTNET_ROOT=/nonexistent", pgaf, "--version"], TimeSpan.FromMinutes(1)), "pgaf --version");
        Assert.StartsWith(Version + "+", version.StandardOutput.Trim());
        var help = await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("env",
            ["-i", "PATH=/usr/bin:/bin", $"HOME={_folder}", "DOTNET_ROOT=/nonexistent", pgaf, "show", "--help"], TimeSpan.FromMinutes(1)), "pgaf show --help");
        Assert.Contains("state", help.StandardOutput);

        // The .NET tool, for hosts that have the runtime.
        var tools = Path.Combine(_folder, "tools");
        await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("dotnet",
            ["tool", "install", "PgAutoFailover.Cli", "--tool-path", tools, "--add-source", artifacts, "--version", Version], TimeSpan.FromMinutes(5),
            // Its own package cache: the shared one may hold an earlier run's package of the same version.
            new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(_folder, "nuget") }), "dotnet tool install");
        var toolVersion = await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync(Path.Combine(tools, "pgaf"), ["--version"], TimeSpan.FromMinutes(1)), "pgaf (tool) --version");
        Assert.StartsWith(Version + "+", toolVersion.StandardOutput.Trim());
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
