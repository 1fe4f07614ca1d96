using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli.Tests.Unit;

/// <summary>How a broker's refusal is told to an operator (the broker's own words are the input, as RabbitMQ sends them).</summary>
public sealed class BrokerRefusalTests
{
    [Fact]
    public void A_refused_login_is_the_user_name_or_password()
    {
        var refusal = BrokerRefusal.Classify(new InvalidOperationException("None of the specified endpoints were reachable",
            new InvalidOperationException("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.")));
        Assert.Equal((ServiceExitCodes.Refused, "the broker refused the user name or password"), refusal);
    }

    [Theory]
    [InlineData("ACCESS_REFUSED - access to queue 'pgaf-monitor' in vhost 'prod' refused for user 'pgaf-keeper'",
        "the broker refused user \"pgaf-keeper\" access to queue 'pgaf-monitor' in vhost 'prod' (a permission its broker user lacks)")]
    [InlineData("ACCESS_REFUSED - write access to exchange 'PgAutoFailover.Contracts:NodeProbed' in vhost '/' refused for user 'ops'",
        "the broker refused user \"ops\" write access to exchange 'PgAutoFailover.Contracts:NodeProbed' in vhost '/' (a permission its broker user lacks)")]
    public void A_missing_permission_is_named_as_such_not_as_a_bad_password(string brokerSays, string expected)
    {
        var refusal = BrokerRefusal.Classify(new InvalidOperationException($"The AMQP operation was interrupted: AMQP close-reason, initiated by Peer, code=403, text='{brokerSays}'"));
        Assert.Equal((ServiceExitCodes.Refused, expected), refusal);
    }

    [Fact]
    public void An_unreachable_broker_is_not_a_refusal()
    {
        Assert.Null(BrokerRefusal.Classify(new InvalidOperationException("None of the specified endpoints were reachable",
            new System.Net.Sockets.SocketException(111))));
    }
}
