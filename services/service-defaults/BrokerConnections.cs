using PgAutoFailover.Contracts;
using RabbitMQ.Client;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// A plain RabbitMQ.Client connection beside the bus (the start-up check, the monitor's response-address check and goal
/// queue declarations), to the same nodes and with the same TLS rule as MassTransit's (<see cref="BusTls"/>).
/// </summary>
public static class BrokerConnections
{
    public static async Task<IConnection> OpenAsync(BusOptions options, string clientName, bool recover, CancellationToken cancellationToken)
    {
        var nodes = BrokerNodes.Parse(options.Url);
        var factory = new ConnectionFactory
        {
            Uri = nodes.Uri, ClientProvidedName = clientName, RequestedConnectionTimeout = TimeSpan.FromSeconds(10),
            AutomaticRecoveryEnabled = recover,
        };
        var endpoints = nodes.Nodes.Select(n => new AmqpTcpEndpoint(n.Host.Trim('[', ']'), n.Port)).ToList();
        if (BrokerTls.Encrypted(nodes.Uri))
        {
            foreach (var endpoint in endpoints)
            {
                // As the bus connects: TLS on any port, the URL's first host checked against each node's certificate.
                endpoint.Ssl = new SslOption
                {
                    Enabled = true, ServerName = nodes.Uri.Host, CertificateValidationCallback = BrokerTls.Validator(options.CaFile),
                };
            }
        }
        // The first node that answers, in the order given.
        return await factory.CreateConnectionAsync(endpoints, cancellationToken);
    }
}
