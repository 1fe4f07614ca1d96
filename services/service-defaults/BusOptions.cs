namespace PgAutoFailover.ServiceDefaults;

/// <summary>Where the RabbitMQ broker is. Bound from the "Bus" section; RABBITMQ_URL overrides <see cref="Url"/>, RABBITMQ_CA_FILE <see cref="CaFile"/>.</summary>
public sealed class BusOptions
{
    public const string Section = "Bus";

    /// <summary>
    /// AMQP URI with credentials and virtual host; a broker cluster's nodes as a host list
    /// (<c>amqp://user:password@rabbit1,rabbit2:5673,rabbit3/vhost</c>, <see cref="PgAutoFailover.Contracts.BrokerNodes"/>).
    /// Default: the local broker's guest account.
    /// </summary>
    public string Url { get; set; } = "amqp://guest:guest@127.0.0.1:5672/";

    /// <summary>
    /// PEM file of the CA that signed the broker's certificate, for an amqps:// URL (docs/operations.md#tls): then only
    /// that CA is trusted. RABBITMQ_CA_FILE overrides it. Default none: the system's CAs.
    /// </summary>
    public string? CaFile { get; set; }

    /// <summary>
    /// Messages each receive endpoint takes from the broker and handles at once. Default 32: the monitor's
    /// handlers wait on its store, so throughput needs many in flight (per-group order is kept by the monitor).
    /// </summary>
    public int PrefetchCount { get; set; } = 32;
}
