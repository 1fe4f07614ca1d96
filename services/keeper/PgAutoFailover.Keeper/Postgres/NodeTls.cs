using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Npgsql;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>
/// How this node uses TLS (docs/operations.md#tls), from <see cref="KeeperOptions"/>: what PostgreSQL serves (the
/// user's certificate, or a self-signed one made once into the state directory, outside PGDATA so that a base backup
/// never copies one node's key to another) and how this node connects to its upstream: sslmode=require with a
/// self-signed certificate (encrypted, nothing to verify against), verify-full when a CA is given, prefer when TLS is off.
/// </summary>
public sealed class NodeTls
{
    private readonly KeeperOptions _options;

    public NodeTls(KeeperOptions options)
    {
        _options = options;
        CertificateFile = options.ServerCertFile is { Length: > 0 } c ? c : Path.Combine(options.ResolvedStateDirectory, "server.crt");
        KeyFile = options.ServerKeyFile is { Length: > 0 } k ? k : Path.Combine(options.ResolvedStateDirectory, "server.key");
    }

    public bool Enabled => _options.Ssl;
    public bool SelfSigned => Enabled && _options.ServerCertFile is not { Length: > 0 };
    public string CertificateFile { get; }
    public string KeyFile { get; }
    public string? CaFile => Enabled && _options.SslCaFile is { Length: > 0 } ca ? ca : null;

    /// <summary>libpq's sslmode for this node's own connections to other nodes.</summary>
    public string ClientSslMode => !Enabled ? "prefer" : CaFile is null ? "require" : "verify-full";

    /// <summary>pg_hba's connection type for remote clients: TLS only when TLS is on.</summary>
    public string HbaConnectionType => Enabled ? "hostssl" : "host";

    /// <summary>The settings on the postgres command line (pg_basebackup copies postgresql.conf, not these).</summary>
    public IEnumerable<string> ServerSettings()
    {
        if (!Enabled)
        {
            yield return "ssl=off";
            yield break;
        }
        yield return "ssl=on";
        yield return $"ssl_cert_file={CertificateFile}";
        yield return $"ssl_key_file={KeyFile}";
        if (CaFile is { } ca) yield return $"ssl_ca_file={ca}";
    }

    /// <summary>What primary_conninfo and other libpq connection strings append.</summary>
    public string ConninfoParameters => CaFile is { } ca ? $"sslmode={ClientSslMode} sslrootcert={ca}" : $"sslmode={ClientSslMode}";

    /// <summary>The same for libpq programs run with an environment (pg_basebackup, pg_rewind, psql).</summary>
    public void AddTo(IDictionary<string, string> environment)
    {
        environment["PGSSLMODE"] = ClientSslMode;
        if (CaFile is { } ca) environment["PGSSLROOTCERT"] = ca;
    }

    /// <summary>The same for Npgsql.</summary>
    public void ApplyTo(NpgsqlConnectionStringBuilder builder)
    {
        builder.SslMode = !Enabled ? SslMode.Prefer : CaFile is null ? SslMode.Require : SslMode.VerifyFull;
        if (CaFile is { } ca) builder.RootCertificate = ca;
    }

    /// <summary>One line for each inconsistent setting, checked once at start (KeeperService).</summary>
    public static IEnumerable<string> Problems(KeeperOptions options)
    {
        bool cert = options.ServerCertFile is { Length: > 0 }, key = options.ServerKeyFile is { Length: > 0 }, ca = options.SslCaFile is { Length: > 0 };
        if (!options.Ssl && (cert || key || ca))
            yield return "Keeper:Ssl is false (--no-ssl) but certificate files are given: choose one";
        if (cert != key)
            yield return "Keeper:ServerCertFile (--server-cert) and Keeper:ServerKeyFile (--server-key) go together";
        if (ca && !cert)
            yield return "Keeper:SslCaFile (--ssl-ca-file) needs this node's certificate signed by it: give --server-cert and --server-key";
        foreach (var (file, what) in new[] { (options.ServerCertFile, "ServerCertFile"), (options.ServerKeyFile, "ServerKeyFile"), (options.SslCaFile, "SslCaFile") })
        {
            if (file is { Length: > 0 } && !File.Exists(file)) yield return $"Keeper:{what} {file} does not exist";
        }
    }

    /// <summary>
    /// Makes the self-signed certificate when it is missing: ECDSA P-256, the node's host as subject and subject
    /// alternative name, ten years (nothing verifies a self-signed certificate's dates under sslmode=require; a short one
    /// would only stop replication the day it ends). The key is written 0600 and given to the PostgreSQL user, as
    /// PostgreSQL demands.
    /// </summary>
    public void EnsureSelfSigned(OsCommand os)
    {
        if (!SelfSigned || (File.Exists(CertificateFile) && File.Exists(KeyFile))) return;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={CommonName(_options.Host)}"), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(_options.Host, out var ip)) names.AddIpAddress(ip);
        else names.AddDnsName(_options.Host);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        Write(os, KeyFile, key.ExportPkcs8PrivateKeyPem());
        Write(os, CertificateFile, certificate.ExportCertificatePem());
    }

    private static string CommonName(string host) => host.Replace(",", "", StringComparison.Ordinal).Replace("=", "", StringComparison.Ordinal);

    private static void Write(OsCommand os, string path, string pem)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, pem + "\n");
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        os.GiveToPostgres(temp);
        File.Move(temp, path, overwrite: true);
    }
}
