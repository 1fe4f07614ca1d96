using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PgAutoFailover.Contracts;

/// <summary>
/// TLS to the broker (docs/operations.md#tls). An amqps:// URL means TLS whatever its port: MassTransit alone turns TLS
/// on only for port 5671, so "amqps://host:5681/" would otherwise talk plain AMQP. A CA file (Bus:CaFile, RABBITMQ_CA_FILE)
/// makes that CA the only one trusted, as libpq's sslrootcert does; without one the system's CAs are. The broker's name
/// in the URL must match its certificate either way. One rule for the services (BusExtensions) and pgaf (MonitorClient).
/// </summary>
public static class BrokerTls
{
    /// <summary>The environment variable the services and pgaf read the broker's CA file from.</summary>
    public const string CaFileVariable = "RABBITMQ_CA_FILE";

    /// <summary>amqps:// (or MassTransit's rabbitmqs://): the broker is to be reached over TLS.</summary>
    public static bool Encrypted(Uri url) => url.Scheme is "amqps" or "rabbitmqs";

    /// <summary>One line for settings that cannot work, or null.</summary>
    public static string? Problem(Uri url, string? caFile)
    {
        if (string.IsNullOrWhiteSpace(caFile)) return null;
        if (!Encrypted(url)) return $"a broker CA file ({caFile}) is set but the broker URL is {url.Scheme}://, not amqps://";
        if (!File.Exists(caFile)) return $"the broker CA file {caFile} does not exist";
        try
        {
            _ = LoadCertificates(caFile);
            return null;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return $"the broker CA file {caFile} cannot be read as PEM certificates: {e.Message}";
        }
    }

    /// <summary>
    /// A check that trusts only the CA file's certificates, or null to use the system's. The name check stays: a
    /// certificate for another host is refused even when the CA signed it.
    /// </summary>
    public static RemoteCertificateValidationCallback? Validator(string? caFile)
    {
        if (string.IsNullOrWhiteSpace(caFile)) return null;
        var roots = LoadCertificates(caFile);
        return (_, certificate, _, errors) =>
        {
            if (certificate is null) return false;
            if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return chain.Build(leaf);
        };
    }

    private static X509Certificate2Collection LoadCertificates(string caFile)
    {
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(caFile);
        if (roots.Count == 0) throw new InvalidDataException("no certificate in it");
        return roots;
    }
}
