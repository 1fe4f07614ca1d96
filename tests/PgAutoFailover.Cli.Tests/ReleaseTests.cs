using PgAutoFailover.Testing;

namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// Issue 14 part 7: scripts/release.sh makes what a host without the .NET SDK installs (docs/install.md). The pgaf
/// tarball is unpacked into an empty folder and run with an empty environment (no dotnet on PATH, no DOTNET_ROOT), and
/// SHA256SUMS checks. The services' tarballs and the tool package are made by the same script and not here, where each
/// would add 15-40 s of two busy cores to the suite.
/// </summary>
public sealed class ReleaseTests : IDisposable
{
    private const string Version = "0.0.1-test";
    private readonly string _folder = Directory.CreateTempSubdirectory("pgaf-release-").FullName;

    [Fact]
    public async Task The_pgaf_tarball_installs_into_an_empty_folder_and_runs_without_dotnet_and_its_checksum_holds()
    {
        var artifacts = Path.Combine(_folder, "artifacts");
        var made = await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync(Path.Combine(ComposeTests.RepositoryRoot, "scripts", "release.sh"),
            ["--version", Version, "--only", "pgaf", "--out", artifacts], TimeSpan.FromMinutes(10)), "release.sh");
        var tarball = Path.Combine(artifacts, $"pgaf-{Version}-linux-x64.tar.gz");
        Assert.Contains(tarball, made.StandardOutput);
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

        // The broker users' definitions, runnable from the unpacked folder as docs/install.md says.
        var definitions = await ProcessRunner.CheckedAsync(ProcessRunner.RunAsync("env", ["-i", "PATH=/usr/bin:/bin",
            Path.Combine(install, $"pgaf-{Version}", "pgaf-broker-definitions"), "--vhost", "/", "--secrets", Path.Combine(_folder, "broker")],
            TimeSpan.FromMinutes(1)), "pgaf-broker-definitions");
        Assert.Contains("\"name\":\"pgaf-keeper\"", definitions.StandardOutput);
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
