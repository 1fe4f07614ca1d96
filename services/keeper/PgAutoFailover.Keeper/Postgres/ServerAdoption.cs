using Npgsql;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>
/// Takes over a PostgreSQL server that already runs on the node's data directory (docs/operations.md#adopting-a-running-database):
/// the common way HA is added to a database that serves. What can change at a reload does (the keeper's pg_hba block, TLS,
/// replication feedback settings); what needs a restart waits for the keeper's first restart of the server, unless the
/// server cannot be a primary with standbys without it (not listening on the node's address, wal_level minimal, no WAL
/// senders or replication slots): then the keeper restarts it once, and says why. Either way it then obeys the lease.
/// </summary>
public sealed partial class ServerAdoption(KeeperOptions options, PostgresServer server, PgSql sql, ILogger<ServerAdoption> logger)
{
    /// <summary>Reloadable settings that must arrive with the keeper's pg_hba block: its lines want TLS, and refuse clients without it.</summary>
    private static readonly HashSet<string> WithTheHbaBlock = new(StringComparer.OrdinalIgnoreCase)
    {
        "ssl", "ssl_cert_file", "ssl_key_file", "ssl_ca_file",
    };

    /// <summary>Call with pg_hba.conf and pg_ident.conf already written; returns once the server is this keeper's.</summary>
    public async Task AdoptAsync(CancellationToken ct)
    {
        var postmaster = server.PostmasterPid();
        server.EnsureStateDirectory();
        server.Tls.EnsureSelfSigned(server.Os);
        var desired = DesiredSettings();
        // With --no-ssl the keeper needs no TLS, and a server that has it for its own clients keeps it.
        if (!server.Tls.Enabled) desired = desired.Where(s => !WithTheHbaBlock.Contains(s.Key)).ToDictionary(StringComparer.OrdinalIgnoreCase);
        server.Files.SetAutoConf(desired.Where(s => WithTheHbaBlock.Contains(s.Key)).ToDictionary(s => s.Key, s => (string?)s.Value));
        server.SignalReload();
        await WaitForSessionAsync(ct);

        var current = await sql.SettingsAsync(desired.Keys, ct);
        var atReload = new Dictionary<string, string?>();
        var atRestart = new List<string>();
        var restartNow = new List<string>();
        foreach (var (name, want) in desired)
        {
            if (!current.TryGetValue(name, out var have))
            {
                Log.UnknownSettingLeftOut(logger, name);
                continue;
            }
            if (string.Equals(have.Value, want, StringComparison.OrdinalIgnoreCase)) continue;
            if (have.Context != "postmaster") atReload[name] = want;
            else if (RestartReason(name, have.Value, want) is { } reason) restartNow.Add(reason);
            else atRestart.Add($"{name} {have.Value} -> {want}");
        }
        if (atReload.Count > 0)
        {
            server.Files.SetAutoConf(atReload);
            await sql.ExecuteAsync("SELECT pg_reload_conf()", ct);
        }
        if (server.Tls.Enabled) await sql.WaitForSettingAsync("ssl", "on", ct);

        if (restartNow.Count > 0)
        {
            Log.RestartingAdoptedServer(logger, postmaster, string.Join("; ", restartNow));
            await server.StopAsync(ct);
            await server.StartAsync(ct);
            return;
        }
        if (atRestart.Count > 0)
        {
            Log.SettingsPendingRestart(logger, string.Join(", ", atRestart));
        }
        if (atRestart.Any(s => s.StartsWith("wal_log_hints ", StringComparison.Ordinal)) && await sql.ShowAsync("data_checksums", ct) != "on")
        {
            Log.NoWalLogHints(logger);
        }
        server.EnsureLeaseGuard();
        Log.AdoptedWithoutRestart(logger, postmaster);
    }

    /// <summary>The -c settings the keeper starts its servers with.</summary>
    private Dictionary<string, string> DesiredSettings()
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var args = server.ServerArguments();
        for (var i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] != "-c") continue;
            var setting = args[++i];
            var equals = setting.IndexOf('=');
            if (equals > 0) settings[setting[..equals].Trim()] = setting[(equals + 1)..].Trim();
        }
        return settings;
    }

    /// <summary>Why a server that runs with <paramref name="have"/> could not serve as this node's primary until restarted, or null.</summary>
    private string? RestartReason(string name, string have, string want)
    {
        switch (name.ToLowerInvariant())
        {
            case "listen_addresses":
                var listening = have.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                var wanted = want.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                return listening.Contains("*") || wanted.All(w => listening.Contains(w) || (listening.Contains("0.0.0.0") && System.Net.IPAddress.TryParse(w, out var ip)
                    && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork))
                    ? null
                    : $"it listens on '{have}', not on {options.Host} where the group reaches this node";
            case "wal_level":
                return have == "minimal" ? "wal_level is minimal: no standby can stream from it" : null;
            case "max_wal_senders" or "max_replication_slots":
                return int.TryParse(have, out var n) && n < 2 ? $"{name} is {have}: too few for standbys" : null;
            default:
                return null;
        }
    }

    private async Task WaitForSessionAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + options.PostgresStartTimeout;
        while (true)
        {
            try
            {
                await sql.ExecuteAsync("SELECT 1", ct);
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                throw new KeeperException($"the running PostgreSQL of {options.PgData} does not let the keeper in as postgres over its Unix socket after a reload: {e.Message}");
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL knows no setting {Name}: left out")]
        public static partial void UnknownSettingLeftOut(ILogger logger, string name);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Restarting the running PostgreSQL (PID {Pid}) once, under the keeper: {Reasons}")]
        public static partial void RestartingAdoptedServer(ILogger logger, int? pid, string reasons);

        [LoggerMessage(Level = LogLevel.Information, Message = "Settings that take effect at the server's next restart by the keeper: {Settings}")]
        public static partial void SettingsPendingRestart(ILogger logger, string settings);

        [LoggerMessage(Level = LogLevel.Warning, Message = "wal_log_hints is off and the data has no checksums: until the keeper restarts this server, an old primary that must be rewound after a failover is cloned again instead (pg_rewind needs one of them)")]
        public static partial void NoWalLogHints(ILogger logger);

        [LoggerMessage(Level = LogLevel.Information, Message = "Adopted the running PostgreSQL (PID {Pid}) without a restart")]
        public static partial void AdoptedWithoutRestart(ILogger logger, int? pid);
    }
}
