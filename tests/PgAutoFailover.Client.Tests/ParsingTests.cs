using System.Text.Json;
using Npgsql;
using PgAutoFailover.UriService.Http;

namespace PgAutoFailover.Client.Tests;

public sealed class ParsingTests
{
    [Fact]
    public void A_multi_host_uri_becomes_npgsql_settings_with_every_host_in_order()
    {
        var settings = MultiHostUri.Parse("postgres://app:s%40cret@10.0.0.1:5432,10.0.0.2:5433/my%20db?target_session_attrs=read-write&sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=api");
        Assert.Equal("10.0.0.1:5432,10.0.0.2:5433", settings.Host);
        Assert.Equal("my db", settings.Database);
        Assert.Equal("app", settings.Username);
        Assert.Equal("s@cret", settings.Password);
        Assert.Equal("read-write", settings.TargetSessionAttributes);
        Assert.Equal(SslMode.VerifyFull, settings.SslMode);
        Assert.Equal("/etc/ca.pem", settings.RootCertificate);
        Assert.Equal("api", settings.ApplicationName);
        Assert.Equal(["10.0.0.1:5432", "10.0.0.2:5433"], MultiHostUri.Hosts("postgresql://10.0.0.1:5432,10.0.0.2:5433/db"));
    }

    [Fact]
    public void An_npgsql_connection_string_is_taken_as_it_is_and_bad_input_says_what_is_wrong()
    {
        Assert.Equal(["a:1", "b:2"], MultiHostUri.Hosts("Host=a:1,b:2;Database=x"));
        Assert.Contains("sslmode \"sometimes\"", Assert.Throws<FormatException>(() => MultiHostUri.Parse("postgres://a:1/db?sslmode=sometimes")).Message);
        Assert.Contains("no host", Assert.Throws<FormatException>(() => MultiHostUri.Parse("postgres:///db")).Message);
        Assert.Contains("not a postgres:// URI", Assert.Throws<FormatException>(() => MultiHostUri.Parse("Hots=a;;=")).Message);
    }

    [Fact]
    public async Task Server_sent_events_yield_the_data_of_the_named_events_only()
    {
        var text = ": keep-alive\n\nevent: uri\nid: 3\ndata: {\"a\":1}\n\nevent: other\ndata: x\n\nevent: uri\ndata: line1\ndata: line2\n\n: keep-alive\n\n";
        var events = new List<string>();
        await foreach (var data in ServerSentEvents.ReadAsync(new StringReader(text), "uri", CancellationToken.None)) events.Add(data);
        Assert.Equal(["{\"a\":1}", "line1\nline2"], events);
    }

    [Fact]
    public void The_client_reads_the_uri_services_answer_as_the_service_writes_it()
    {
        var written = new UriAnswer("default", "read-write", "postgres://h1:1,h2:2/postgres?target_session_attrs=read-write",
            new NodeRef(2, "node2", 0, "h2", 2), 41);
        var json = JsonSerializer.Serialize(written, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var read = JsonSerializer.Deserialize<UriServiceAnswer>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal(new UriServiceAnswer("default", "read-write", written.Uri, new PrimaryNode(2, "node2", 0, "h2", 2), 41), read);
    }

    [Fact]
    public void Options_name_every_problem_on_one_line_each()
    {
        var problems = new PgAutoFailoverClientOptions
        {
            UriServiceUrl = new Uri("ftp://x/"), Formation = " ", ConnectTimeout = TimeSpan.FromMilliseconds(10),
            ReconnectDelay = TimeSpan.FromSeconds(10), MaxReconnectDelay = TimeSpan.FromSeconds(1),
        }.Problems();
        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.Contains("http(s)"));
        Assert.Contains(problems, p => p.Contains("Formation"));
        Assert.Contains(problems, p => p.Contains("ConnectTimeout"));
        Assert.Contains(problems, p => p.Contains("ReconnectDelay"));
        Assert.Empty(new PgAutoFailoverClientOptions { UriServiceUrl = new Uri("http://127.0.0.1:7103") }.Problems());
        Assert.Contains("UriServiceUrl is required", Assert.Single(new PgAutoFailoverClientOptions().Problems()));
    }
}
