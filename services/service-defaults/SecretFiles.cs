using System.Collections;
using Microsoft.Extensions.Configuration;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// Settings given as files, as Docker secrets and the official images' <c>*_FILE</c> variables are
/// (docs/operations.md#secrets): <c>RABBITMQ_URL_FILE</c>, and <c>&lt;Section&gt;__&lt;Key&gt;_FILE</c> for any setting
/// (<c>ConnectionStrings__MonitorStore_FILE</c>, <c>Keeper__ApplicationPassword_FILE</c>,
/// <c>HealthChecker__Password_FILE</c>), name a file whose content, without its final line break, is the value. A
/// password then never sits in the environment, which <c>docker inspect</c> and /proc/&lt;pid&gt;/environ show.
/// </summary>
public static class SecretFiles
{
    private const string Suffix = "_FILE";

    /// <summary>Adds the files named by the environment; a missing file, or a setting given both ways, is one-line ArgumentException.</summary>
    public static IConfigurationBuilder AddSecretFiles(this IConfigurationBuilder configuration) =>
        configuration.AddInMemoryCollection(Read(Environment.GetEnvironmentVariables()));

    public static Dictionary<string, string?> Read(IDictionary environment)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is not string variable || !variable.EndsWith(Suffix, StringComparison.Ordinal)) continue;
            var name = variable[..^Suffix.Length];
            // Only settings: RABBITMQ_CA_FILE, SSL_CERT_FILE and the like are paths in their own right.
            if (name != "RABBITMQ_URL" && !name.Contains("__", StringComparison.Ordinal)) continue;
            if (environment.Contains(name)) throw new ArgumentException($"{name} and {variable} are both set: give one of them");
            var path = entry.Value as string ?? "";
            try
            {
                values[name.Replace("__", ":", StringComparison.Ordinal)] = File.ReadAllText(path).TrimEnd('\n', '\r');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new ArgumentException($"{variable}: cannot read \"{path}\": {e.Message}");
            }
        }
        return values;
    }
}
