using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.ServiceDefaults;

public static class ServiceHostBuilder
{
    /// <summary>
    /// A web host builder whose content root is the service's own folder, so appsettings.json is found
    /// wherever the service is started from (the default content root is the working directory).
    /// </summary>
    public static WebApplicationBuilder Create(string[] args) =>
        WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

    /// <summary>
    /// Builds and runs a service; what an operator got wrong (a missing setting, an invalid option, a port another
    /// process holds) ends it with one line on stderr and exit code 78, a broker or store that refuses it with one line
    /// and 77 (<see cref="ServiceExitCodes"/>, docs/operations.md#when-a-service-cannot-start), instead of a stack trace.
    /// </summary>
    public static async Task<int> RunServiceAsync(string name, string[] args, Action<WebApplicationBuilder> configure, Action<WebApplication> map)
    {
        WebApplication app;
        try
        {
            var builder = Create(args);
            configure(builder);
            app = builder.Build();
            map(app);
        }
        catch (Exception e) when (IsOperatorError(e))
        {
            await Console.Error.WriteLineAsync($"{name}: {OneLine(e)}");
            return ServiceExitCodes.BadSettings;
        }
        var failure = app.Services.GetService<StartFailure>(); // RunAsync disposes the services
        try
        {
            await app.RunAsync();
        }
        catch (OperationCanceledException)
        {
            // Stopped (SIGTERM, Ctrl-C, or itself: StartFailure) while still starting, e.g. waiting for its store.
        }
        catch (Exception e) when (IsOperatorError(e))
        {
            await Console.Error.WriteLineAsync($"{name}: {OneLine(e)}");
            return ServiceExitCodes.BadSettings;
        }
        if (failure?.ExitCode is not { } code) return 0;
        await Console.Error.WriteLineAsync($"{name}: {failure.Reason}");
        return code;
    }

    /// <summary>A failure of the host's start-up caused by its settings or its environment, not by a defect.</summary>
    public static bool IsOperatorError(Exception e) =>
        e is OptionsValidationException or FormatException or UriFormatException or ArgumentException
        || (e is InvalidOperationException && e.GetType() == typeof(InvalidOperationException))
        || (e is IOException && e.InnerException is AddressInUseException);

    public static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ").Trim();
}
