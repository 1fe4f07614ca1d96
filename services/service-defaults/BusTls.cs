using MassTransit;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.ServiceDefaults;

public static class BusTls
{
    /// <summary>
    /// TLS for an amqps:// broker URL whatever its port (MassTransit alone turns it on only for port 5671), the broker's
    /// name checked against its certificate, the CA file the only one trusted when given (<see cref="BrokerTls"/>).
    /// </summary>
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
