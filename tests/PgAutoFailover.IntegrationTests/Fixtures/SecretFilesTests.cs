using System.Collections;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.IntegrationTests.Fixtures;

/// <summary>docs/operations.md#secrets: settings read from the files that <c>*_FILE</c> variables name.</summary>
public sealed class SecretFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pgaf-secrets-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Secret(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void A_file_gives_its_setting_without_the_final_line_break()
    {
        var values = SecretFiles.Read(new Hashtable
        {
            ["RABBITMQ_URL_FILE"] = Secret("url", "amqp://pgaf:s3cret@broker:5672/\n"),
            ["ConnectionStrings__MonitorStore_FILE"] = Secret("store", "Host=db;Password=p w\r\n"),
            ["Keeper__ApplicationPassword_FILE"] = Secret("app", "two\nlines\n"),
        });

        Assert.Equal("amqp://pgaf:s3cret@broker:5672/", values["RABBITMQ_URL"]);
        Assert.Equal("Host=db;Password=p w", values["ConnectionStrings:MonitorStore"]);
        Assert.Equal("two\nlines", values["Keeper:ApplicationPassword"]);
    }

    [Fact]
    public void Path_settings_that_end_in_file_are_left_alone()
    {
        var values = SecretFiles.Read(new Hashtable { ["RABBITMQ_CA_FILE"] = "/etc/ca.pem", ["SSL_CERT_FILE"] = "/nowhere" });
        Assert.Empty(values);
    }

    [Fact]
    public void A_setting_given_both_ways_or_a_missing_file_is_one_line()
    {
        var both = Assert.Throws<ArgumentException>(() => SecretFiles.Read(new Hashtable
        {
            ["RABBITMQ_URL"] = "amqp://a", ["RABBITMQ_URL_FILE"] = Secret("url", "amqp://b"),
        }));
        Assert.Equal("RABBITMQ_URL and RABBITMQ_URL_FILE are both set: give one of them", both.Message);

        var missing = Assert.Throws<ArgumentException>(() => SecretFiles.Read(new Hashtable { ["Keeper__ApplicationPassword_FILE"] = "/run/secrets/none" }));
        Assert.StartsWith("Keeper__ApplicationPassword_FILE: cannot read \"/run/secrets/none\": ", missing.Message);
        Assert.DoesNotContain('\n', missing.Message);
    }
}
