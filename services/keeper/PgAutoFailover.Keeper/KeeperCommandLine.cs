using System.CommandLine;
using System.Runtime.InteropServices;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Loop;
using PgAutoFailover.Keeper.Postgres;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Keeper;

/// <summary>
/// keeper create --pgdata … --port … --formation … [--name …] [--run]
/// keeper run --pgdata …
/// Every option is also a configuration key (Keeper:Port, env Keeper__Port); the command line wins.
/// </summary>
public static class KeeperCommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var pgdata = new Option<string>("--pgdata") { Description = "PostgreSQL data directory: empty or missing (initdb), or an existing one, stopped or running (adopted as it is)", Required = true };
        var port = new Option<int?>("--port") { Description = "PostgreSQL port (5432)" };
        var host = new Option<string?>("--hostname") { Description = "address other nodes use for this node (127.0.0.1)" };
        var formation = new Option<string?>("--formation") { Description = "formation to join (default)" };
        var group = new Option<int?>("--group") { Description = "group id (the monitor chooses)" };
        var name = new Option<string?>("--name") { Description = "node name (node_<id>)" };
        var priority = new Option<int?>("--candidate-priority") { Description = "0..100 (50)" };
        var quorum = new Option<bool?>("--replication-quorum") { Description = "take part in synchronous replication (true)" };
        var auth = new Option<string?>("--auth") { Description = "scram-sha-256 (default) or trust" };
        var bindir = new Option<string?>("--pg-bindir") { Description = "directory of the PostgreSQL 15 binaries" };
        var dbname = new Option<string?>("--dbname") { Description = "application database, created when missing (postgres)" };
        var username = new Option<string?>("--username")
        {
            Description = "application role, created with the password from Keeper__ApplicationPassword or --password-file (none)",
        };
        var passwordFile = new Option<string?>("--password-file") { Description = "file whose first line is the application role's password" };
        var noSsl = new Option<bool>("--no-ssl") { Description = "serve and replicate without TLS: passwords and data cross the network in clear" };
        var selfSigned = new Option<bool>("--ssl-self-signed") { Description = "serve TLS with a certificate the keeper makes (the default)" };
        var caFile = new Option<string?>("--ssl-ca-file") { Description = "CA that signed every node's certificate: connections between nodes use sslmode=verify-full" };
        var serverCert = new Option<string?>("--server-cert") { Description = "this node's TLS certificate (PEM), issued for --hostname" };
        var serverKey = new Option<string?>("--server-key") { Description = "its private key (PEM, mode 0600, owned by the PostgreSQL user)" };
        var run = new Option<bool>("--run") { Description = "go on into the keeper loop after create" };

        var create = new Command("create", "initialise or adopt a data directory, register with the monitor, reach the first goal");
        foreach (var o in new Option[] { pgdata, port, host, formation, group, name, priority, quorum, auth, bindir, dbname, username, passwordFile,
                     noSsl, selfSigned, caFile, serverCert, serverKey, run })
            create.Options.Add(o);
        create.SetAction((parse, ct) =>
        {
            var settings = Common(parse, pgdata, port, host, formation, group, name, priority, quorum, auth, bindir);
            if (parse.GetValue(dbname) is { } db) settings["Keeper:DatabaseName"] = db;
            if (parse.GetValue(username) is { } user) settings["Keeper:ApplicationUser"] = user;
            if (parse.GetValue(passwordFile) is { } file) settings["Keeper:ApplicationPasswordFile"] = file;
            if (parse.GetValue(noSsl))
            {
                if (parse.GetValue(selfSigned))
                {
                    Console.Error.WriteLine("keeper: --no-ssl and --ssl-self-signed contradict each other");
                    return Task.FromResult(1);
                }
                settings["Keeper:Ssl"] = "false";
            }
            if (parse.GetValue(caFile) is { } ca) settings["Keeper:SslCaFile"] = Path.GetFullPath(ca);
            if (parse.GetValue(serverCert) is { } cert) settings["Keeper:ServerCertFile"] = Path.GetFullPath(cert);
            if (parse.GetValue(serverKey) is { } key) settings["Keeper:ServerKeyFile"] = Path.GetFullPath(key);
            settings["Keeper:Create"] = "true";
            settings["Keeper:ExitAfterCreate"] = parse.GetValue(run) ? "false" : "true";
            return HostAsync(settings, ct);
        });

        var runCommand = new Command("run", "run the keeper loop for an existing node");
        foreach (var o in new Option[] { pgdata, port, host, bindir }) runCommand.Options.Add(o);
        runCommand.SetAction((parse, ct) => HostAsync(Common(parse, pgdata, port, host, null, null, null, null, null, null, bindir), ct));

        var root = new RootCommand("pgaf keeper: drives one PostgreSQL node to the goal state the monitor assigns");
        root.Subcommands.Add(create);
        root.Subcommands.Add(runCommand);
        // SIGTERM and Ctrl+C are the host's to handle (it stops the loop, then PostgreSQL, within HostOptions.ShutdownTimeout):
        // System.CommandLine's own handling ended the process 2 s after the signal, with code 143, mid-stop.
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static Dictionary<string, string?> Common(ParseResult parse, Option<string> pgdata, Option<int?> port, Option<string?> host,
        Option<string?>? formation, Option<int?>? group, Option<string?>? name, Option<int?>? priority, Option<bool?>? quorum,
        Option<string?>? auth, Option<string?> bindir)
    {
        var s = new Dictionary<string, string?> { ["Keeper:PgData"] = parse.GetValue(pgdata) };
        void Set(string key, object? value) { if (value is not null) s[$"Keeper:{key}"] = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture); }
        Set("Port", parse.GetValue(port));
        Set("Host", parse.GetValue(host));
        Set("PgBinDir", parse.GetValue(bindir));
        if (formation is not null) Set("Formation", parse.GetValue(formation));
        if (group is not null) Set("GroupId", parse.GetValue(group));
        if (name is not null) Set("Name", parse.GetValue(name));
        if (priority is not null) Set("CandidatePriority", parse.GetValue(priority));
        if (quorum is not null) Set("ReplicationQuorum", parse.GetValue(quorum));
        if (auth is not null) Set("AuthMethod", parse.GetValue(auth));
        return s;
    }

    private static async Task<int> HostAsync(Dictionary<string, string?> settings, CancellationToken ct)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        // Settings recorded by create come first; the environment and the command line override them.
        var recorded = new KeeperOptions { PgData = settings["Keeper:PgData"] ?? "" };
        builder.Configuration.AddJsonFile(recorded.SettingsFile, optional: true);
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddInMemoryCollection(settings);
        var options = new KeeperOptions();
        builder.Configuration.GetSection(KeeperOptions.Section).Bind(options);
        if (options.Problems().FirstOrDefault() is { } problem)
        {
            await Console.Error.WriteLineAsync($"keeper: {problem}");
            return ServiceExitCodes.BadSettings;
        }
        if (string.IsNullOrWhiteSpace(builder.Configuration["Urls"]) && string.IsNullOrWhiteSpace(builder.Configuration["ASPNETCORE_URLS"]))
        {
            // /health, /alive, /metrics on loopback, beside the PostgreSQL port so several keepers fit on one machine.
            builder.WebHost.UseUrls($"http://127.0.0.1:{(options.Port + 10000) % 65536}");
        }
        try
        {
            // Resolved once (pg_config is a process, and Debian's a shell script running three): AddKeeper keeps this one.
            builder.Services.AddSingleton(PgBinaries.Resolve(options.PgBinDir));
            builder.AddServiceDefaults(KeeperService.Telemetry);
            builder.AddKeeper();
        }
        catch (Exception e) when (e is KeeperException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"keeper: {e.Message}");
            return ServiceExitCodes.BadSettings;
        }
        var app = builder.Build();
        app.MapDefaultEndpoints();
        var exit = app.Services.GetRequiredService<KeeperExit>(); // RunAsync disposes the services
        var refused = app.Services.GetRequiredService<StartFailure>();
        var loop = app.Services.GetRequiredService<KeeperLoop>();
        // SIGHUP reloads the configuration (services/keeper/README.md step 2) instead of ending the process.
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
        {
            signal.Cancel = true;
            _ = loop.ReloadAsync(app.Lifetime.ApplicationStopping);
        });
        try
        {
            await app.RunAsync(ct);
        }
        catch (OperationCanceledException)
        {
            // The keeper stopped itself during start-up; the reason is in KeeperExit.
        }
        catch (Exception e) when (ServiceHostBuilder.IsOperatorError(e))
        {
            await Console.Error.WriteLineAsync($"keeper: {ServiceHostBuilder.OneLine(e)}");
            return ServiceExitCodes.BadSettings;
        }
        if (refused.ExitCode is { } code)
        {
            await Console.Error.WriteLineAsync($"keeper: {refused.Reason}");
            return code;
        }
        if (exit.Error is not null) await Console.Error.WriteLineAsync($"keeper: {exit.Error}");
        return exit.Code;
    }
}
