using Npgsql;

namespace PgAutoFailover.Client;

/// <summary>
/// Reads libpq's multi-host URI (postgres://h1:p1,h2:p2/db?target_session_attrs=…&amp;sslmode=…), as the uri-service
/// prints it, into Npgsql's settings. A value that is not a URI is taken as an Npgsql connection string.
/// </summary>
public static class MultiHostUri
{
    /// <summary>The settings <paramref name="text"/> names; throws <see cref="FormatException"/> with one line saying what is wrong.</summary>
    public static NpgsqlConnectionStringBuilder Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rest = StripScheme(text.Trim());
        if (rest is null)
        {
            try { return new NpgsqlConnectionStringBuilder(text); }
            catch (ArgumentException e) { throw new FormatException($"not a postgres:// URI nor an Npgsql connection string: {e.Message}", e); }
        }

        var builder = new NpgsqlConnectionStringBuilder();
        var query = "";
        if (rest.IndexOf('?') is var q and >= 0) { query = rest[(q + 1)..]; rest = rest[..q]; }
        var slash = rest.IndexOf('/');
        var authority = slash >= 0 ? rest[..slash] : rest;
        var database = slash >= 0 ? Uri.UnescapeDataString(rest[(slash + 1)..]) : "";
        if (authority.LastIndexOf('@') is var at and >= 0)
        {
            var user = authority[..at];
            authority = authority[(at + 1)..];
            var colon = user.IndexOf(':');
            builder.Username = Uri.UnescapeDataString(colon >= 0 ? user[..colon] : user);
            if (colon >= 0) builder.Password = Uri.UnescapeDataString(user[(colon + 1)..]);
        }
        if (authority.Length == 0) throw new FormatException($"no host in \"{text}\"");
        builder.Host = authority; // "h1:p1,h2:p2": Npgsql takes a port per host
        if (database.Length > 0) builder.Database = database;

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (kv[0])
            {
                case "target_session_attrs": builder.TargetSessionAttributes = value; break;
                case "sslmode": builder.SslMode = ParseSslMode(value); break;
                case "sslrootcert": builder.RootCertificate = value; break;
                case "dbname": builder.Database = value; break;
                case "user": builder.Username = value; break;
                case "password": builder.Password = value; break;
                case "application_name": builder.ApplicationName = value; break;
                case "connect_timeout" when int.TryParse(value, out var seconds): builder.Timeout = seconds; break;
                default: break; // libpq settings Npgsql has no use for (sslcrl…) are left out
            }
        }
        return builder;
    }

    /// <summary>The host:port pairs of a URI or connection string, in order; empty when there are none.</summary>
    public static IReadOnlyList<string> Hosts(string text)
    {
        var host = Parse(text).Host ?? "";
        return host.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    private static string? StripScheme(string text)
    {
        foreach (var scheme in new[] { "postgres://", "postgresql://" })
            if (text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return text[scheme.Length..];
        return null;
    }

    private static SslMode ParseSslMode(string value) => value switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new FormatException($"sslmode \"{value}\" is not one of disable, allow, prefer, require, verify-ca, verify-full"),
    };
}
