using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

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
    /// process holds) ends it with one line on stderr and exit code 1 instead of a stack trace.
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
            return 1;
        }
        try
        {
            await app.RunAsync();
            return 0;
        }
        catch (OperationCanceledException)
        {
            // Stopped (SIGTERM, Ctrl-C) while still starting, e.g. waiting for its store: a requested stop.
            return 0;
        }
        catch (Exception e) when (IsOperatorError(e))
        {
            await Console.Error.WriteLineAsync($"{name}: {OneLine(e)}");
            return 1;
        }
    }

    /// <summary>A failure of the host's start-up caused by its settings or its environment, not by a defect.</summary>
    public static bool IsOperatorError(Exception e) =>
        e is OptionsValidationException or FormatException or UriFormatException or ArgumentException
        || (e is InvalidOperationException && e.GetType() == typeof(InvalidOperationException))
        || (e is IOException && e.InnerException is AddressInUseException);

    public static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ").Trim();
}
