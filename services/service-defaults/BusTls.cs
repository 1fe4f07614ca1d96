using MassTransit;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.ServiceDefaults;

public static class BusTls
{
    /// <summary>
    /// TLS for an amqps:// broker URL whatever its port (MassTransit alone turns it on only for port 5671), the broker's
    /// name checked against its certificate, the CA file the only one trusted when given (<see cref="BrokerTls"/>).
    /// </summary>
    /// <summary>
    /// The cluster's nodes, when the URL names several (<see cref="BrokerNodes"/>): MassTransit connects to them in turn,
    /// so a bus whose node dies reconnects to the next live one.
    /// </summary>
    public static void UseBrokerNodes(this IRabbitMqHostConfigurator host, BrokerNodes nodes)
    {
        // Publishes and sends wait for the broker's confirm (MassTransit's default, stated here): with quorum queues a
        // confirm means a majority of the nodes holds the message.
        host.PublisherConfirmation = true;
        if (!nodes.IsCluster) return;
        host.UseCluster(cluster =>
        {
            foreach (var node in nodes.Nodes) cluster.Node(node.ToString());
        });
    }

    public static void UseBrokerTls(this IRabbitMqHostConfigurator host, Uri url, string? caFile)
    {
        if (!BrokerTls.Encrypted(url)) return;
        host.UseSsl(ssl =>
        {
            ssl.ServerName = url.Host;
            if (BrokerTls.Validator(caFile) is { } validate) ssl.CertificateValidationCallback = validate;
        });
    }
}
