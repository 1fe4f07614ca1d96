using FailoverWriter;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PgAutoFailover.Client;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(WriterSettings.Usage);
    return 0;
}
WriterSettings settings;
try { settings = WriterSettings.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine($"FailoverWriter: {e.Message}");
    return 2;
}

var builder = Host.CreateApplicationBuilder();
builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
builder.Services.AddSingleton(settings);
builder.Services.AddPgAutoFailoverDataSource(settings.UriService, settings.Formation, options =>
    options.ConfigureConnection = cs =>
    {
        cs.Username = settings.User;
        if (settings.Password is not null) cs.Password = settings.Password;
        cs.ApplicationName = "pgaf-failover-writer";
        cs.CommandTimeout = 5;
    });
builder.Services.AddHostedService<WriteLoop>();
try
{
    await builder.Build().RunAsync();
    return 0;
}
catch (Exception e) when (e is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException)
{
    Console.Error.WriteLine($"FailoverWriter: {e.Message}");
    return 1;
}
