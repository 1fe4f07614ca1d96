using System.Security.Cryptography;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>
/// Passwords of the replication role (shared by the group: pass Keeper:ReplicationPassword or the
/// same file to every node) and of the health-check role. Generated on first need into a file of
/// mode 0600 owned by the PostgreSQL user.
/// </summary>
public sealed class Secrets(KeeperOptions options, OsCommand os)
{
    private readonly NodeTls _tls = new(options);

    /// <summary>What this node's connections to its upstream present: the replication password, over <see cref="NodeTls"/>.</summary>
    public ReplicationLogin Replication => new(ReplicationPassword, _tls);

    public string ReplicationPassword => options.ReplicationPassword is { Length: > 0 } p ? p : Get("replication");
    public string HealthCheckPassword => options.HealthCheckPassword is { Length: > 0 } p ? p : Get("health_check");

    /// <summary>The application role's password: the setting, else the first line of the file; null when neither is given.</summary>
    public string? ApplicationPassword
    {
        get
        {
            if (options.ApplicationPassword is { Length: > 0 } p) return p;
            if (options.ApplicationPasswordFile is not { Length: > 0 } file) return null;
            string? line;
            try
            {
                line = File.ReadLines(file).FirstOrDefault()?.Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KeeperException($"cannot read Keeper:ApplicationPasswordFile {file}: {e.Message}");
            }
            return line is { Length: > 0 } ? line : throw new KeeperException($"Keeper:ApplicationPasswordFile {file} is empty");
        }
    }

    private string Get(string key)
    {
        lock (this)
        {
            var values = Read();
            if (values.TryGetValue(key, out var value)) return value;
            values[key] = Generate();
            Write(values);
            return values[key];
        }
    }

    private Dictionary<string, string> Read()
    {
        var values = new Dictionary<string, string>();
        if (!File.Exists(options.PasswordFile)) return values;
        foreach (var line in File.ReadAllLines(options.PasswordFile))
        {
            var eq = line.IndexOf('=');
            if (eq > 0) values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        return values;
    }

    private void Write(Dictionary<string, string> values)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(options.PasswordFile))!;
        Directory.CreateDirectory(dir);
        var temp = options.PasswordFile + ".tmp";
        File.WriteAllText(temp, string.Join('\n', values.Select(kv => $"{kv.Key}={kv.Value}")) + "\n");
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        os.GiveToPostgres(temp);
        File.Move(temp, options.PasswordFile, overwrite: true);
    }

    private static string Generate()
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        return RandomNumberGenerator.GetString(alphabet, 32);
    }
}

/// <summary>The replication role's password and the TLS its connections use (PgSql's connections to the upstream).</summary>
public sealed record ReplicationLogin(string Password, NodeTls Tls)
{
    public override string ToString() => $"ReplicationLogin {{ Password = ***, SslMode = {Tls.ClientSslMode} }}";

    /// <summary>The environment of a libpq program (pg_basebackup, pg_rewind, psql) connecting as the replication role.</summary>
    public Dictionary<string, string> LibpqEnvironment()
    {
        var environment = new Dictionary<string, string> { ["PGPASSWORD"] = Password };
        Tls.AddTo(environment);
        return environment;
    }
}
