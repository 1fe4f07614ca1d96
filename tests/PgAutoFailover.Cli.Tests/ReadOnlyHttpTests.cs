using System.Text;

namespace PgAutoFailover.Cli.Tests;

public sealed class ReadOnlyHttpTests
{
    private static byte[] Raw(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void A_response_gives_its_status_lower_cased_headers_and_body()
    {
        var r = ReadOnlyHttp.Parse(Raw("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nPgaf-Broker: 127.0.0.1:5672/v\r\n\r\n{\"reason\":\"é\"}"));
        Assert.Equal(404, r.Status);
        Assert.Equal("127.0.0.1:5672/v", r.Headers["pgaf-broker"]);
        Assert.Equal("{\"reason\":\"é\"}", Encoding.UTF8.GetString(r.Body));
    }

    [Fact]
    public void An_empty_body_is_empty() => Assert.Empty(ReadOnlyHttp.Parse(Raw("HTTP/1.0 204 No Content\r\n\r\n")).Body);

    [Theory]
    [InlineData("")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Type: x\r\n")]          // headers never end
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n\r\n")]                      // not HTTP
    [InlineData("HTTP/1.1 abc OK\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")]
    public void Anything_else_is_not_an_answer(string raw) =>
        Assert.Throws<InvalidDataException>(() => ReadOnlyHttp.Parse(Raw(raw)));
}
