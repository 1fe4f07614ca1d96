using Npgsql;
using PgAutoFailover.Keeper.Tests.Support;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// docs/operations.md#application-role: the first primary creates the application role (scram password from a file) and its
/// database; pg_hba admits that role from the client hosts to its database with a password; the standby has both.
/// </summary>
public sealed class ApplicationRoleTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    // A quote and a backslash: the password reaches PostgreSQL as written, not as SQL.
    private const string Password = "it's a \\secret";

    [Fact]
    public async Task The_primary_creates_the_application_role_and_database_and_clients_log_in_with_its_password()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        await group.WithLogsAsync(async () =>
        {
            var passwordFile = Path.Combine(group.BaseDirectory, "app.password");
            await File.WriteAllTextAsync(passwordFile, Password + "\n");
            var (primary, standby, _, _) = await group.PairAsync(node =>
            {
                node.Settings["Keeper:ApplicationUser"] = "app user";
                node.Settings["Keeper:ApplicationPasswordFile"] = passwordFile;
                node.Settings["Keeper:DatabaseName"] = "appdb";
                node.Settings["Keeper:ClientHosts:0"] = "127.0.0.0/8";
            });

            Assert.Equal("app user", await primary.ScalarAsync<string>("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'appdb'"));
            Assert.StartsWith("SCRAM-SHA-256$", await primary.ScalarAsync<string>("SELECT rolpassword FROM pg_authid WHERE rolname = 'app user'"));

            // Over TCP, as an application connects: it writes on the primary and reads the row back on the standby.
            await using (var c = await OpenAsync(primary.Port, Password, "appdb"))
            {
                await using var cmd = new NpgsqlCommand("CREATE TABLE orders (id int primary key); INSERT INTO orders VALUES (1)", c);
                await cmd.ExecuteNonQueryAsync();
            }
            await Eventually.TrueAsync(async () =>
            {
                try
                {
                    await using var c = await OpenAsync(standby.Port, Password, "appdb");
                    await using var cmd = new NpgsqlCommand("SELECT count(*) FROM orders", c);
                    return (long)(await cmd.ExecuteScalarAsync())! == 1;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
                {
                    return false; // not replayed yet
                }
                catch (NpgsqlException e) when (e is not PostgresException)
                {
                    return false; // the standby restarting to take its settings
                }
            }, "the application's row on the standby");

            // A wrong password is refused.
            var wrong = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(primary.Port, "guess", "appdb"));
            Assert.Equal(PostgresErrorCodes.InvalidPassword, wrong.SqlState);
            // The rule as PostgreSQL parsed it, on both nodes: the client network, the role's own database, a password.
            foreach (var node in new[] { primary, standby })
            {
                Assert.Equal("appdb|app user|127.0.0.0|255.0.0.0|scram-sha-256", await node.ScalarAsync<string>("""
                    SELECT database[1] || '|' || user_name[1] || '|' || address || '|' || netmask || '|' || auth_method
                    FROM pg_hba_file_rules WHERE 'app user' = ANY(user_name)
                    """));
            }
            Assert.Equal(0L, await primary.ScalarAsync<long>("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL"));
        });
    }

    [Fact]
    public async Task An_application_user_without_a_password_is_refused_at_start_with_one_line()
    {
        await using var group = await TestGroup.CreateAsync(broker);
        var node = group.Node("node1");
        node.Settings["Keeper:ApplicationUser"] = "app";
        var error = await Assert.ThrowsAsync<ArgumentException>(() => node.StartKeeperAsync());
        Assert.Equal("Keeper:ApplicationUser (--username) needs a password: set Keeper:ApplicationPassword or Keeper:ApplicationPasswordFile (--password-file)",
            error.Message);
        Assert.False(Directory.Exists(node.PgData), "nothing initialised");
    }

    private static async Task<NpgsqlConnection> OpenAsync(int port, string password, string database)
    {
        var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Username = "app user", Password = password, Database = database, Pooling = false, Timeout = 5,
            // As the printed URI says (sslmode=require): with "prefer", Npgsql retries a refused password without TLS and
            // reports pg_hba's "no encryption" refusal instead of the wrong password.
            SslMode = SslMode.Require,
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
}
