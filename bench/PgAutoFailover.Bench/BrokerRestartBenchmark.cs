using System.Diagnostics;
using System.Globalization;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PgAutoFailover.ServiceDefaults;
using PgAutoFailover.Testing;
using static PgAutoFailover.Bench.BenchArguments;

namespace PgAutoFailover.Bench;

/// <summary>
/// How long a service stays deaf after its broker comes back (docs/operations.md#when-the-broker-restarts): a private
/// RabbitMQ node, one bus with a consumer, configured as the services configure theirs; each round kills the node
/// (SIGKILL), leaves it down, boots it and times from "the broker accepts connections" to the first message published
/// and consumed through it again. Prints each round and min / median / max.
/// Usage: broker-restart [--rounds 5] [--down-seconds 10] [--masstransit-schedule] [--classic-queues] [--settle-seconds 10] [--verbose]
/// (--masstransit-schedule: leave MassTransit's own 3-30 s reconnect schedule, for comparison; --classic-queues: the
/// consumer's queue classic instead of a quorum queue as the services declare theirs; --settle-seconds: how long the
/// broker runs after the first message before the first kill.)
/// </summary>
public static class BrokerRestartBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = int.Parse(Option(args, "--rounds", "5"), CultureInfo.InvariantCulture);
        var down = TimeSpan.FromSeconds(double.Parse(Option(args, "--down-seconds", "10"), CultureInfo.InvariantCulture));
        var ours = !args.Contains("--masstransit-schedule");
        var quorum = !args.Contains("--classic-queues");
        var settle = TimeSpan.FromSeconds(double.Parse(Option(args, "--settle-seconds", "10"), CultureInfo.InvariantCulture));
        if (!LocalRabbitNode.Available)
        {
            Console.Error.WriteLine("broker-restart: rabbitmq-server is not installed");
            return 2;
        }
        Console.WriteLine($"broker restart: {rounds} rounds, broker down {down.TotalSeconds} s each, " +
                          $"{(ours ? "PgAutoFailover's reconnect schedule" : "MassTransit's own reconnect schedule")}, " +
                          $"{(quorum ? "quorum" : "classic")} queues, load {LoadAverage()}");
        await using var node = await LocalRabbitNode.StartAsync();
        var received = new Pings();
        var services = new ServiceCollection();
        services.AddSingleton(received);
        if (args.Contains("--verbose")) services.AddLogging(logging => logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug));
        services.AddMassTransit(bus =>
        {
            bus.AddConsumer<PingConsumer>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                if (ours && BrokerReconnectSchedule.TryApply(rabbit) is { } problem) throw new InvalidOperationException(problem);
                rabbit.Host(node.AmqpUri);
                if (quorum) rabbit.ConnectEndpointConfigurationObserver(new QuorumQueues());
                rabbit.ConfigureEndpoints(context);
            });
        });
        await using var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IBusControl>();
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        try
        {
            await RoundTripAsync(bus, received, "warm-up", TimeSpan.FromSeconds(60));
            // A quorum queue killed within a second or so of its declaration can come back without its Raft state, a
            // follower of nobody for good (RabbitMQ 3.10); a deployment's queues are older than that.
            await Task.Delay(settle);
            var deaf = new List<TimeSpan>();
            for (var round = 1; round <= rounds; round++)
            {
                await node.KillAsync();
                await Task.Delay(down);
                await node.BootAsync();
                var heard = await RoundTripAsync(bus, received, $"round-{round}", TimeSpan.FromMinutes(3));
                deaf.Add(heard);
                Console.WriteLine($"round {round}: first message through {heard.TotalSeconds:F3} s after the broker accepted connections");
            }
            deaf.Sort();
            Console.WriteLine($"RESULT deaf after broker restart: min {deaf[0].TotalSeconds:F3} / median {deaf[deaf.Count / 2].TotalSeconds:F3} / " +
                              $"max {deaf[^1].TotalSeconds:F3} s over {rounds} rounds; load {LoadAverage()}");
            return 0;
        }
        finally
        {
            await bus.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        }
    }

    /// <summary>Publishes a ping every 100 ms (a publish to a broker still starting may be lost) until one comes back.</summary>
    private static async Task<TimeSpan> RoundTripAsync(IBus bus, Pings received, string tag, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < patience)
        {
            if (received.Has(tag)) return clock.Elapsed;
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await bus.Publish(new Ping(tag), timeout.Token);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // the publisher reconnects on its own; try again
            }
            await Task.Delay(100);
        }
        var health = bus is IBusControl control ? control.CheckHealth() : null;
        throw new TimeoutException($"no message through the broker within {patience} ({tag}); bus {health?.Status}: " +
                                   string.Join(", ", health?.Endpoints.Select(x => $"{x.Key} {x.Value.Status} {x.Value.Description}") ?? []));
    }



    public sealed record Ping(string Tag);

    public sealed class Pings
    {
        private readonly HashSet<string> _tags = [];

        public void Add(string tag) { lock (_tags) _tags.Add(tag); }

        public bool Has(string tag) { lock (_tags) return _tags.Contains(tag); }
    }

    public sealed class PingConsumer(Pings received) : IConsumer<Ping>
    {
        public Task Consume(ConsumeContext<Ping> context)
        {
            received.Add(context.Message.Tag);
            return Task.CompletedTask;
        }
    }
}
