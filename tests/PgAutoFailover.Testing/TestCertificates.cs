using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PgAutoFailover.Testing;

/// <summary>A private CA and the server certificates it signs, written as PEM files, for the TLS tests.</summary>
public static class TestCertificates
{
    public static X509Certificate2 NewCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }

    /// <summary>Writes the CA's certificate as PEM and returns the file's path.</summary>
    public static string WriteCa(X509Certificate2 ca, string path)
    {
        File.WriteAllText(path, ca.ExportCertificatePem());
        return path;
    }

    /// <summary>
    /// A server certificate signed by the CA for each name (an IP address or a DNS name), written as
    /// {directory}/{fileName}.crt and .key (0600; chown the folder to the server's user when it is not the test's).
    /// </summary>
    public static (string Cert, string Key) Issue(X509Certificate2 ca, string directory, string fileName, params string[] names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={names[0]}", key, HashAlgorithmName.SHA256);
        var alternatives = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address)) alternatives.AddIpAddress(address);
            else alternatives.AddDnsName(name);
        }
        request.CertificateExtensions.Add(alternatives.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // server auth
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(ca, now.AddDays(-1), ca.NotAfter.AddDays(-1), RandomNumberGenerator.GetBytes(8));
        var cert = Path.Combine(directory, $"{fileName}.crt");
        var keyFile = Path.Combine(directory, $"{fileName}.key");
        File.WriteAllText(cert, issued.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return (cert, keyFile);
    }
}
