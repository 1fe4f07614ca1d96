using System.Security.Cryptography.X509Certificates;
using Npgsql;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// docs/operations.md#tls: nodes serve TLS by default with a certificate the keeper makes, replicate over it, and refuse
/// clients without it; with a CA and certificates given, nodes and clients verify each other (verify-full); --no-ssl is
/// plain text.
/// </summary>
public sealed class TlsTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    private const string Password = "tls-test-password";

    [Fact]
    public async Task By_default_nodes_replicate_over_tls_with_self_signed_certificates_and_refuse_clients_without_it()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var (primary, standby) = await StartPairAsync(group, _ => { });

            // The standby's WAL receiver reaches the primary over TLS (libpq, sslmode=require in primary_conninfo).
            Assert.True(await primary.ScalarAsync<bool>(
                "SELECT bool_and(s.ssl) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) HAVING count(*) = 1"));
            Assert.Contains("sslmode=require", await standby.ScalarAsync<string>("SHOW primary_conninfo"));

            // An application with sslmode=require writes, encrypted; one without TLS is refused before any password is sent.
            await using (var c = await OpenAsync(primary.Port, SslMode.Require))
            {
                Assert.True(await ScalarAsync<bool>(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"));
                Assert.Equal("TLSv1.3", await ScalarAsync<string>(c, "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"));
            }
            var plain = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(primary.Port, SslMode.Disable));
            Assert.Equal(PostgresErrorCodes.InvalidAuthorizationSpecification, plain.SqlState);
            Assert.Contains("no encryption", plain.MessageText);

            // Each node has its own key, outside PGDATA (a base backup does not copy the primary's to the standby), 0600.
            foreach (var node in new[] { primary, standby })
            {
                var key = Path.Combine(node.StateDirectory, "server.key");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
                Assert.False(File.Exists(Path.Combine(node.PgData, "server.key")));
                using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(node.StateDirectory, "server.crt")));
                Assert.Equal("CN=127.0.0.1", certificate.Subject);
            }
            Assert.NotEqual(await File.ReadAllTextAsync(Path.Combine(primary.StateDirectory, "server.key")),
                await File.ReadAllTextAsync(Path.Combine(standby.StateDirectory, "server.key")));
        });
    }

    [Fact]
    public async Task With_a_ca_nodes_and_clients_verify_the_full_chain_and_a_stranger_ca_is_refused()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var pki = Path.Combine(group.BaseDirectory, "pki");
            Directory.CreateDirectory(pki);
            using var ca = TestCertificates.NewCa("PgAutoFailover test CA");
            var caFile = Path.Combine(pki, "ca.crt");
            await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());
            var (primary, standby) = await StartPairAsync(group, node =>
            {
                var (cert, key) = IssueServerCertificate(ca, pki, node.Name, "127.0.0.1");
                node.Settings["Keeper:SslCaFile"] = caFile;
                node.Settings["Keeper:ServerCertFile"] = cert;
                node.Settings["Keeper:ServerKeyFile"] = key;
            });

            var conninfo = await standby.ScalarAsync<string>("SHOW primary_conninfo");
            Assert.Contains("sslmode=verify-full", conninfo);
            Assert.Contains($"sslrootcert={caFile}", conninfo);
            Assert.True(await primary.ScalarAsync<bool>(
                "SELECT bool_and(s.ssl) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) HAVING count(*) = 1"));

            // libpq, as psql or an application would: verify-full against the CA, through the node's address.
            var psql = await ProcessRunner.RunAsync(Path.Combine(PgCluster.BinDirectory, "psql"),
                [$"host=127.0.0.1 port={primary.Port} user=app dbname=appdb sslmode=verify-full sslrootcert={caFile}", "-X", "-A", "-t",
                    "-c", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"],
                TimeSpan.FromSeconds(30), new Dictionary<string, string> { ["PGPASSWORD"] = Password });
            Assert.True(psql.ExitCode == 0, psql.ToString());
            Assert.Equal("t", psql.StandardOutput.Trim());

            // A CA that did not sign the node's certificate: the client refuses the server.
            using var stranger = TestCertificates.NewCa("Somebody else's CA");
            var strangerFile = Path.Combine(pki, "stranger.crt");
            await File.WriteAllTextAsync(strangerFile, stranger.ExportCertificatePem());
            var refused = await ProcessRunner.RunAsync(Path.Combine(PgCluster.BinDirectory, "psql"),
                [$"host=127.0.0.1 port={primary.Port} user=app dbname=appdb sslmode=verify-full sslrootcert={strangerFile}", "-X", "-c", "SELECT 1"],
                TimeSpan.FromSeconds(30), new Dictionary<string, string> { ["PGPASSWORD"] = Password });
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("certificate verify failed", refused.StandardError);
        });
    }

    [Fact]
    public async Task No_ssl_serves_plain_text()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var node = group.Node("node1");
            node.Settings["Keeper:Ssl"] = "false";
            await node.StartKeeperAsync();
            await group.Monitor.WaitForStateAsync(await node.WaitRegisteredAsync(), NodeState.Single);
            Assert.Equal("off", await node.ScalarAsync<string>("SHOW ssl"));
            Assert.Equal(0L, await node.CountAsync("SELECT count(*) FROM pg_hba_file_rules WHERE type IN ('hostssl', 'hostnossl')"));
            Assert.False(File.Exists(Path.Combine(node.StateDirectory, "server.key")));
        });
    }

    [Theory]
    [InlineData("Keeper:ServerCertFile (--server-cert) and Keeper:ServerKeyFile (--server-key) go together", "Keeper:ServerCertFile", "/etc/hostname")]
    [InlineData("Keeper:Ssl is false (--no-ssl) but certificate files are given: choose one", "Keeper:Ssl", "false", "Keeper:SslCaFile", "/etc/hostname")]
    [InlineData("Keeper:ServerKeyFile /nonexistent/server.key does not exist", "Keeper:ServerCertFile", "/etc/hostname", "Keeper:ServerKeyFile", "/nonexistent/server.key")]
    public async Task Inconsistent_tls_settings_are_refused_at_start_with_one_line(string expected, params string[] settings)
    {
        await using var group = await TestGroup.CreateAsync(broker);
        var node = group.Node("node1");
        for (var i = 0; i < settings.Length; i += 2) node.Settings[settings[i]] = settings[i + 1];
        var error = await Assert.ThrowsAsync<ArgumentException>(() => node.StartKeeperAsync());
        Assert.Equal(expected, error.Message);
        Assert.False(Directory.Exists(node.PgData), "nothing initialised");
    }

    private static async Task<(KeeperNode Primary, KeeperNode Standby)> StartPairAsync(TestGroup group, Action<KeeperNode> configure)
    {
        var passwordFile = Path.Combine(group.BaseDirectory, "app.password");
        await File.WriteAllTextAsync(passwordFile, Password + "\n");
        var (primary, standby, _, _) = await group.PairAsync(node =>
        {
            node.Settings["Keeper:ApplicationUser"] = "app";
            node.Settings["Keeper:ApplicationPasswordFile"] = passwordFile;
            node.Settings["Keeper:DatabaseName"] = "appdb";
            configure(node);
        });
        return (primary, standby);
    }

    /// <summary>A server certificate for the address, signed by the CA; files owned by the PostgreSQL user, the key 0600.</summary>
    private static (string Cert, string Key) IssueServerCertificate(X509Certificate2 ca, string directory, string name, string address)
    {
        var files = TestCertificates.Issue(ca, directory, name, address);
        if (ProcessRunner.IsRoot)
        {
            var chown = ProcessRunner.RunAsync("chown", ["-R", $"{PgCluster.OsUser}:{PgCluster.OsUser}", directory], TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            Assert.True(chown.ExitCode == 0, chown.ToString());
        }
        return files;
    }

    private static async Task<NpgsqlConnection> OpenAsync(int port, SslMode sslMode)
    {
        var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Username = "app", Password = Password, Database = "appdb", Pooling = false, Timeout = 5,
            SslMode = sslMode,
        }.ConnectionString);
        try
        {
            await c.OpenAsync();
            return c;
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection c, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}
