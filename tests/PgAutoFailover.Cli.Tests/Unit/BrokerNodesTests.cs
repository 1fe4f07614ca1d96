using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Tests.Unit;

/// <summary>The broker URL with a cluster's host list (docs/operations.md#a-broker-cluster), as every client reads it.</summary>
public sealed class BrokerNodesTests
{
    [Fact]
    public void One_host_is_the_url_as_given()
    {
        var nodes = BrokerNodes.Parse("amqp://pgaf:pw@rabbit:5673/prod");
        Assert.False(nodes.IsCluster);
        Assert.Equal(new Uri("amqp://pgaf:pw@rabbit:5673/prod"), nodes.Uri);
        Assert.Equal([new BrokerNode("rabbit", 5673)], nodes.Nodes);
    }

    [Fact]
    public void A_host_list_keeps_its_order_and_takes_the_schemes_default_port()
    {
        var nodes = BrokerNodes.Parse("amqp://pgaf:p%40ss@rabbit1,rabbit2:5673, 10.0.0.3:5674/prod?heartbeat=5");
        Assert.True(nodes.IsCluster);
        Assert.Equal([new BrokerNode("rabbit1", 5672), new BrokerNode("rabbit2", 5673), new BrokerNode("10.0.0.3", 5674)], nodes.Nodes);
        Assert.Equal(new Uri("amqp://pgaf:p%40ss@rabbit1:5672/prod?heartbeat=5"), nodes.Uri);
        Assert.Equal("p%40ss", nodes.Uri.UserInfo.Split(':')[1]);
        Assert.Equal(5671, BrokerNodes.Parse("amqps://a,b:5000/").Nodes[0].Port);
        Assert.Equal(new BrokerNode("[::1]", 5700), BrokerNodes.Parse("amqp://[::1]:5700,[::1]:5701/").Nodes[0]);
    }

    [Theory]
    [InlineData("amqp://pgaf:s3cret@a,,b/", "empty host")]
    [InlineData("amqp://pgaf:s3cret@a:99999/", "not a number from 1 to 65535")]
    [InlineData("amqp://pgaf:s3cret@a:x,b/", "not a number from 1 to 65535")]
    [InlineData("http://pgaf:s3cret@a/", "not amqp:// or amqps://")]
    [InlineData("rabbit1,rabbit2", "not an amqp:// or amqps:// URL")]
    public void A_bad_list_is_one_line_without_the_password(string url, string why)
    {
        var failure = Assert.Throws<FormatException>(() => BrokerNodes.Parse(url));
        Assert.Contains(why, failure.Message);
        Assert.DoesNotContain("s3cret", failure.Message);
        Assert.DoesNotContain('\n', failure.Message);
    }
}
