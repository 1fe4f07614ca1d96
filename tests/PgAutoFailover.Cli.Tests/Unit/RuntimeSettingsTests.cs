using System.Text.Json;
using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.Cli.Tests.Unit;

/// <summary>
/// The JIT settings every executable is built with (Directory.Build.targets; why, with the figures:
/// docs/failover-timing.md, "Start-up, and the JIT on two cores"), read from the built runtimeconfig.json files
/// that the runtime reads when a user starts the program.
/// </summary>
public sealed class RuntimeSettingsTests
{
    public static TheoryData<string> Executables() =>
    [
        ServiceProcess.Dll("monitor", "PgAutoFailover.Monitor"),
        ServiceProcess.Dll("keeper", "PgAutoFailover.Keeper"),
        ServiceProcess.Dll("health-checker", "PgAutoFailover.HealthChecker"),
        ServiceProcess.Dll("uri-service", "PgAutoFailover.UriService"),
        Path.Combine(ServiceProcess.RepositoryRoot, "cli", "PgAutoFailover.Cli", "bin", ServiceProcess.Configuration, "net10.0", "pgaf.dll"),
    ];

    [Theory]
    [MemberData(nameof(Executables))]
    public void Every_executable_defers_tier_up_and_runs_without_dynamic_pgo(string dll)
    {
        var config = Path.ChangeExtension(dll, ".runtimeconfig.json");
        using var json = JsonDocument.Parse(File.ReadAllText(config));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(JsonValueKind.False, properties.GetProperty("System.Runtime.TieredPGO").ValueKind);
        Assert.Equal(2000, properties.GetProperty("System.Runtime.TieredCompilation.CallCountingDelayMs").GetInt32());
    }
}
