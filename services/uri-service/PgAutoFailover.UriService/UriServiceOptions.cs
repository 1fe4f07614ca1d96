using PgAutoFailover.Contracts;

namespace PgAutoFailover.UriService;

/// <summary>Bound from the "UriService" section. Every timeout has its default beside it.</summary>
public sealed class UriServiceOptions : ServiceDefaults.IOptionsWithProblems
{
    public const string Section = "UriService";

    /// <summary>
    /// Where the HTTP API listens, e.g. "http://127.0.0.1:7103". Null: the host's "Urls" setting
    /// (appsettings: http://127.0.0.1:7103), and when that is missing too, http://127.0.0.1:7103.
    /// Loopback by default: expose it deliberately.
    /// </summary>
    public string? Urls { get; set; }

    /// <summary>Identity of this instance: suffix of its private topology queue and "RequestedBy" of GetTopology. Default: host name and process id.</summary>
    public string InstanceId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>
    /// Application role put in every URI (postgres://app@host1,host2/db), the keepers' ApplicationUser, so that psql and
    /// libpq use the URI as printed with the password from PGPASSWORD or ~/.pgpass. Empty (default): no user, libpq's default.
    /// </summary>
    public string? User { get; set; }

    /// <summary>
    /// sslmode appended to every formation URI (docs/operations.md#tls). Default "require", what keepers serve by default
    /// (TLS with a self-signed certificate; pg_hba refuses clients without TLS); "verify-full" with <see cref="SslRootCert"/>
    /// when the nodes have certificates from a CA; "prefer" only for nodes run with --no-ssl. Empty: omitted.
    /// </summary>
    public string SslMode { get; set; } = "require";

    /// <summary>sslrootcert appended when set (for verify-ca / verify-full).</summary>
    public string? SslRootCert { get; set; }

    /// <summary>sslcrl appended when set.</summary>
    public string? SslCrl { get; set; }

    /// <summary>How long one GetTopology request waits for the monitor. Default 2 s; start-up never waits for it.</summary>
    public TimeSpan TopologyRequestTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>First delay before asking the monitor again when it did not answer; doubles up to <see cref="TopologyRetryMaxDelay"/>. Default 1 s.</summary>
    public TimeSpan TopologyRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between two unanswered GetTopology requests. Default 30 s.</summary>
    public TimeSpan TopologyRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// After a first answer, ask again this often, in case a FormationTopologyChanged was missed
    /// while the bus was down (this instance's queue is temporary). Default 60 s; zero turns it off.
    /// </summary>
    public TimeSpan TopologyRefreshPeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Comment line sent on an idle /uri/watch stream so proxies keep it open. Default 15 s.</summary>
    public TimeSpan WatchHeartbeat { get; set; } = TimeSpan.FromSeconds(15);

    private static readonly string[] SslModes = ["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

    /// <summary>What is wrong with these settings (docs/operations.md#settings), one sentence each.</summary>
    public IEnumerable<string> Problems()
    {
        string?[] rules =
        [
            string.IsNullOrWhiteSpace(InstanceId) ? "UriService:InstanceId is empty" : null,
            SslModes.Contains(SslMode) ? null : $"UriService:SslMode is \"{SslMode}\": it must be one of {string.Join(", ", SslModes[1..])} or empty",
            SettingRules.Duration("UriService:TopologyRequestTimeout", TopologyRequestTimeout),
            SettingRules.Duration("UriService:TopologyRetryDelay", TopologyRetryDelay),
            SettingRules.Duration("UriService:TopologyRetryMaxDelay", TopologyRetryMaxDelay),
            SettingRules.Duration("UriService:TopologyRefreshPeriod", TopologyRefreshPeriod),
            SettingRules.Duration("UriService:WatchHeartbeat", WatchHeartbeat),
        ];
        return rules.OfType<string>();
    }
}
