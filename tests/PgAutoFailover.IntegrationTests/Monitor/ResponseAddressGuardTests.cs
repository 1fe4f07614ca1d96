using Microsoft.Extensions.Logging.Abstractions;
using PgAutoFailover.Monitor.Messaging;
using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.Testing;

namespace PgAutoFailover.IntegrationTests.Monitor;

/// <summary>The monitor's check of response addresses (<see cref="ResponseAddressGuard"/>) against a real broker.</summary>
public sealed class ResponseAddressGuardTests(RabbitMqFixture broker) : IClassFixture<RabbitMqFixture>
{
    /// <summary>
    /// A broker node that dies while the monitor checks a keeper's reply address resets the check's connection. That
    /// says nothing about the address: it was taken for an exchange declared with other arguments and remembered for
    /// the keeper's whole run, so every later report of that keeper was dropped and its node fenced itself (seen in
    /// the control-plane failure test under the full suite). The check is answered "go ahead" and made again next time.
    /// </summary>
    [Fact]
    public async Task A_check_cut_by_a_connection_reset_is_not_held_against_the_address()
    {
        var amqp = await broker.NewVirtualHostAsync();
        await using var relay = TcpRelay.Start(amqp.Host, amqp.Port);
        var throughRelay = new UriBuilder(amqp) { Port = relay.Port }.Uri;
        var options = new BusOptions { Url = throughRelay.ToString() };
        await using var connection = new BrokerSideConnection(options);
        var guard = new ResponseAddressGuard(options, connection, NullLogger<ResponseAddressGuard>.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Uri Reply(string name) => new($"rabbitmq://{throughRelay.Host}:{relay.Port}{throughRelay.AbsolutePath.TrimEnd('/')}/{name}?temporary=true");

        Assert.Null(await guard.ProblemAsync(Reply("pgaf-test-reply-first"), timeout.Token)); // opens the connection

        relay.ResetOnNextClientBytes();
        var keeper = Reply("pgaf-test-reply-keeper");
        Assert.Null(await guard.ProblemAsync(keeper, timeout.Token));
        Assert.Equal(1, relay.Resets);
        Assert.Null(await guard.ProblemAsync(keeper, timeout.Token));
        Assert.Null(await guard.ProblemAsync(keeper, timeout.Token));
    }
}
