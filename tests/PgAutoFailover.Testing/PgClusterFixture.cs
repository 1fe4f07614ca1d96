namespace PgAutoFailover.Testing;

/// <summary>One running PostgreSQL cluster for a test class (IClassFixture).</summary>
public sealed class PgClusterFixture : IAsyncLifetime
{
    private PgCluster? _cluster;

    public PgCluster Cluster => _cluster ?? throw new InvalidOperationException("cluster not started");

    public async Task InitializeAsync() => _cluster = await PgCluster.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
