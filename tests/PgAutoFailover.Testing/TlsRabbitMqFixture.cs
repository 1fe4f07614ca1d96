namespace PgAutoFailover.Testing;

/// <summary>
/// A private RabbitMQ node that speaks AMQP over TLS only, with a certificate for "localhost" from a private CA, on a
/// port other than 5671 (so a client that turned TLS on by port alone would fail). Also a stranger CA's file.
/// </summary>
public sealed class TlsRabbitMqFixture : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "pgaf-test", $"broker-tls-{Guid.NewGuid():N}"[..24]);
    private LocalRabbitNode? _node;

    public string CaFile => Path.Combine(_directory, "ca.crt");
    public string StrangerCaFile => Path.Combine(_directory, "stranger.crt");
    public int Port => _node!.Port;

    /// <summary>amqps://pgaf:pgaf@localhost:{port}/</summary>
    public Uri AmqpUri => _node!.AmqpUri;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        using var ca = TestCertificates.NewCa("PgAutoFailover broker test CA");
        using var stranger = TestCertificates.NewCa("Somebody else's CA");
        TestCertificates.WriteCa(ca, CaFile);
        TestCertificates.WriteCa(stranger, StrangerCaFile);
        var (cert, key) = TestCertificates.Issue(ca, _directory, "broker", "localhost", "127.0.0.1");
        _node = await LocalRabbitNode.StartAsync((CaFile, cert, key));
    }

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
