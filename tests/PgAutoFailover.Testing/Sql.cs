using Npgsql;

namespace PgAutoFailover.Testing;

/// <summary>One-shot SQL against a server, for checking PostgreSQL's own view rather than a service's belief.</summary>
public static class Sql
{
    /// <summary>The first column of the first row; default when there is none or it is NULL.</summary>
    public static async Task<T?> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }
}
