using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PgBouncerRelay;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(RelaySettings.Usage);
    return 0;
}
if (!OperatingSystem.IsLinux())
{
    Console.Error.WriteLine("PgBouncerRelay: runs on Linux only (it signals PgBouncer with kill(2))");
    return 1;
}
RelaySettings settings;
try { settings = RelaySettings.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine($"PgBouncerRelay: {e.Message}");
    return 2;
}

var builder = Host.CreateApplicationBuilder();
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
builder.Services.AddSingleton(settings);
builder.Services.AddHostedService<Relay>();
await builder.Build().RunAsync();
return Environment.ExitCode;
