using Npgsql;

namespace PgAutoFailover.Client;

/// <summary>Where the formation's hosts come from, and the Npgsql settings that make a failover fast.</summary>
public sealed class PgAutoFailoverClientOptions
{
    /// <summary>Base address of the uri-service, e.g. http://127.0.0.1:7103.</summary>
    public Uri? UriServiceUrl { get; set; }

    /// <summary>The formation to follow.</summary>
    public string Formation { get; set; } = "default";

    /// <summary>
    /// Used when the uri-service cannot be reached at start (a multi-host URI or an Npgsql connection string). Once
    /// the service answered, the last hosts it gave are kept while it is down.
    /// </summary>
    public string? FallbackConnectionString { get; set; }

    /// <summary>How long the first answer of the uri-service is waited for before the fallback (or an error) is used.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Wait before watching again after the watch stream failed; doubles up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait between two attempts to reach the uri-service.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Npgsql's per-host connect timeout. A dead primary whose machine still answers refuses at once; one that does not
    /// (a cut network) costs this long per attempt, so it is short. Whole seconds (Npgsql's unit), at least 1.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long Npgsql trusts a host's last seen role (its default is 10 s, so a naive application sees a failover
    /// 10 s late). The watch stream also clears every cached role when the primary changes; this bounds the wait when
    /// that event is missed. Whole seconds, 0 = check on every open.
    /// </summary>
    public TimeSpan HostRecheck { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a data source replaced after the formation's nodes changed lives on for connections still open on it.</summary>
    public TimeSpan ReplacedSourceLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Sets what the uri-service does not know: user name, password, application name, pool sizes…</summary>
    public Action<NpgsqlConnectionStringBuilder>? ConfigureConnection { get; set; }

    /// <summary>Further settings of the data sources (logging, type mappings, a password provider…).</summary>
    public Action<NpgsqlDataSourceBuilder>? ConfigureDataSource { get; set; }

    /// <summary>One line per wrong setting; empty when the options can be used.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (UriServiceUrl is null && string.IsNullOrWhiteSpace(FallbackConnectionString))
            problems.Add("UriServiceUrl is required (or a FallbackConnectionString to use without the uri-service)");
        if (UriServiceUrl is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")))
            problems.Add($"UriServiceUrl must be an absolute http(s) address, got \"{url}\"");
        if (string.IsNullOrWhiteSpace(Formation)) problems.Add("Formation must not be empty");
        if (StartupTimeout <= TimeSpan.Zero) problems.Add($"StartupTimeout must be positive, got {StartupTimeout}");
        if (ReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < ReconnectDelay)
            problems.Add($"ReconnectDelay must be positive and at most MaxReconnectDelay, got {ReconnectDelay} and {MaxReconnectDelay}");
        if (ConnectTimeout < TimeSpan.FromSeconds(1)) problems.Add($"ConnectTimeout must be at least 1 s, got {ConnectTimeout}");
        if (HostRecheck < TimeSpan.Zero) problems.Add($"HostRecheck must not be negative, got {HostRecheck}");
        if (ReplacedSourceLifetime < TimeSpan.Zero) problems.Add($"ReplacedSourceLifetime must not be negative, got {ReplacedSourceLifetime}");
        return problems;
    }
}
