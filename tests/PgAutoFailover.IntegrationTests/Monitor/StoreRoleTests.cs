using Npgsql;
using PgAutoFailover.Contracts;
using PgAutoFailover.Testing;

namespace PgAutoFailover.IntegrationTests.Monitor;

/// <summary>
/// Issue 14 part 4 (docs/operations.md#least-privilege): the monitor needs no superuser and no rights outside its own
/// schema. A role that may only connect and owns the schema pgaf_monitor runs it: it registers a node, everything it
/// made is in that schema (with its TOAST tables), and the role can create nothing elsewhere.
/// </summary>
public sealed class StoreRoleTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    private const string Role = "pgaf_monitor_store";
    private const string Database = "pgaf_store";

    [Fact]
    public async Task The_monitor_runs_with_a_store_role_that_owns_only_its_schema()
    {
        await using var store = await PgCluster.CreateAsync();
        await store.ExecuteAsync($"CREATE ROLE {Role} LOGIN");
        await store.ExecuteAsync($"CREATE DATABASE {Database}");
        await store.ExecuteAsync($"REVOKE ALL ON DATABASE {Database} FROM PUBLIC; GRANT CONNECT ON DATABASE {Database} TO {Role}; " +
            $"REVOKE ALL ON SCHEMA public FROM PUBLIC; CREATE SCHEMA pgaf_monitor AUTHORIZATION {Role}", Database);
        var connection = $"Host=127.0.0.1;Port={store.Port};Database={Database};Username={Role}";

        await using (var monitor = await MonitorHarness.StartAsync(await broker.NewVirtualHostAsync(), connection))
        {
            Assert.IsType<NodeRegistered>(await monitor.RegisterAsync("default", Ports.Free(), "node1"));
            // The partitions are held through the same role: reports are consumed (a CREATE SCHEMA once kept them
            // from ever being held, and every report waited in its queue).
            Assert.Equal(MonitorPartitions.Count, Assert.Single(await monitor.PartitionsAsync()).Count);
        }

        Assert.True(await store.ScalarAsync<long>(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pgaf_monitor'", Database) > 0);
        Assert.Equal(0L, await store.ScalarAsync<long>($"""
            SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE pg_get_userbyid(c.relowner) = '{Role}' AND n.nspname NOT IN ('pgaf_monitor', 'pg_toast'))
                 + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE pg_get_userbyid(p.proowner) = '{Role}' AND n.nspname <> 'pgaf_monitor')
            """, Database));
        await using var asRole = new NpgsqlConnection(connection);
        await asRole.OpenAsync();
        await using var create = new NpgsqlCommand("CREATE TABLE public.elsewhere (id int)", asRole);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => create.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }
}
