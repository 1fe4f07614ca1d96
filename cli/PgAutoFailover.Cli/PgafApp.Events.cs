using System.CommandLine;

// pgaf verbs: events tail.
namespace PgAutoFailover.Cli;

public static partial class PgafApp
{
    private sealed partial class App
    {
        // ---- events tail

        private Command Events()
        {
            var formation = new Option<string?>("--formation") { Description = "Only this formation's events (default: every formation)" };
            var types = new Option<string[]>("--type")
            {
                Description = "Event types to print, repeatable, or \"all\" (default: " +
                              string.Join(", ", EventTail.DefaultTypes.Select(t => t.Name)) + ")",
                AllowMultipleArgumentsPerToken = true,
            };
            var queue = new Option<string?>("--queue")
            {
                Description = $"Read the durable queue {EventTail.QueuePrefix}NAME, which keeps the events of the types its runs asked for " +
                              "while pgaf is not running (made at the first run); without it, a queue that lives as long as pgaf",
            };
            var follow = new Option<bool>("--follow") { Description = "With --queue: go on printing events as they happen until Ctrl-C (without --queue pgaf always does)" };
            var json = new Option<bool>("--json") { Description = "One JSON object per line: {type, messageId, message}" };
            var webhook = new Option<string?>("--webhook")
            {
                Description = "Also POST each event (its --json line) to this http(s) URL, retrying until it answers 2xx before taking the next; " +
                              "with --queue an event waits on the queue while the receiver is down",
            };
            var tail = new Command("tail", "Print the monitor's events as they are published (docs/events.md), one line each") { formation, types, queue, follow, json, webhook };
            tail.SetAction((p, ct) => Guard(async () =>
            {
                var only = p.GetValue(formation) is { } f ? FormationName(f) : null;
                var chosen = EventTypes(p.GetValue(types));
                var queueName = p.GetValue(queue);
                if (queueName is not null && !IsQueueName(queueName))
                    throw Usage($"--queue must be 1 to 100 letters, digits, '.', '_' or '-', got \"{queueName}\"");
                var hook = p.GetValue(webhook) is { } url ? WebhookUrl(url) : null;
                var timeout = Timeout(p);
                var tailer = new EventTail(stdout, stderr, p.GetValue(json), only, hook);
                return await tailer.RunAsync(BrokerAddress.Resolve(p.GetValue(_rabbitmq), environment.Get),
                    environment.Get(Contracts.BrokerTls.CaFileVariable), timeout, chosen, queueName, p.GetValue(follow), ct);
            }, ct));
            return new Command("events", "Follow the events operators alert on") { tail };
        }

        private static IReadOnlyList<Type> EventTypes(string[]? names)
        {
            if (names is null || names.Length == 0) return EventTail.DefaultTypes;
            if (names.Any(n => n.Equals("all", StringComparison.OrdinalIgnoreCase))) return EventTail.Types;
            var chosen = new List<Type>();
            foreach (var name in names)
            {
                var type = EventTail.Types.FirstOrDefault(t => t.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                    ?? throw Usage($"--type {name} is not an event type: one of {string.Join(", ", EventTail.Types.Select(t => t.Name))}, or all");
                if (!chosen.Contains(type)) chosen.Add(type);
            }
            return chosen;
        }

        private static Uri WebhookUrl(string url) =>
            Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : throw Usage($"--webhook must be an absolute http:// or https:// URL, got \"{url}\"");

        private static bool IsQueueName(string name) =>
            name.Length is > 0 and <= 100 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
    }
}
