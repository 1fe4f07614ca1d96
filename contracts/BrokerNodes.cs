namespace PgAutoFailover.Contracts;

/// <summary>
/// A broker URL naming one RabbitMQ node or the nodes of a cluster, as libpq takes several hosts:
/// <c>amqp://user:password@rabbit1:5672,rabbit2:5672,rabbit3/vhost</c> (docs/operations.md#a-broker-cluster).
/// <see cref="Uri"/> is the URL with the first node alone (credentials, virtual host, scheme); <see cref="Nodes"/> are
/// all of them, in the order given, each with its port (the scheme's default when omitted). Clients connect to the first
/// node that answers and, when it goes, to the next one. One rule for the services, the keeper and pgaf.
/// </summary>
public sealed record BrokerNodes(Uri Uri, IReadOnlyList<BrokerNode> Nodes)
{
    /// <summary>The nodes, or a one-line <see cref="FormatException"/> naming what is wrong (the password never shown).</summary>
    public static BrokerNodes Parse(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0) throw new FormatException("the broker URL is not an amqp:// or amqps:// URL");
        var scheme = url[..schemeEnd].ToLowerInvariant();
        var defaultPort = scheme switch
        {
            "amqp" or "rabbitmq" => 5672,
            "amqps" or "rabbitmqs" => 5671,
            _ => throw new FormatException($"the broker URL's scheme is {scheme}://, not amqp:// or amqps://"),
        };
        var authorityStart = schemeEnd + 3;
        var authorityEnd = url.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0) authorityEnd = url.Length;
        var authority = url[authorityStart..authorityEnd];
        var at = authority.LastIndexOf('@');
        var userInfo = at < 0 ? "" : authority[..(at + 1)];
        var hostList = authority[(at + 1)..];
        var nodes = new List<BrokerNode>();
        foreach (var part in hostList.Split(','))
        {
            nodes.Add(BrokerNode.Parse(part.Trim(), defaultPort));
        }
        var first = url[..authorityStart] + userInfo + nodes[0] + url[authorityEnd..];
        if (!Uri.TryCreate(first, UriKind.Absolute, out var uri))
            throw new FormatException($"the broker URL is not a valid URI (with its first node, {nodes[0]})");
        return new BrokerNodes(uri, nodes);
    }

    /// <summary>More than one node: the clients are given the cluster's nodes to try in turn.</summary>
    public bool IsCluster => Nodes.Count > 1;
}

/// <summary>One broker node: a host name or address (an IPv6 one in brackets) and its AMQP port.</summary>
public sealed record BrokerNode(string Host, int Port)
{
    public static BrokerNode Parse(string text, int defaultPort)
    {
        if (text.Length == 0) throw new FormatException("the broker URL names an empty host");
        string host;
        string? port = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0) throw new FormatException($"the broker host \"{text}\" opens a bracket it does not close");
            host = text[..(close + 1)];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':') throw new FormatException($"the broker host \"{text}\" has text after its address");
                port = text[(close + 2)..];
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            host = colon < 0 ? text : text[..colon];
            port = colon < 0 ? null : text[(colon + 1)..];
        }
        if (host.Length == 0) throw new FormatException($"the broker host \"{text}\" has no name");
        if (port is null) return new BrokerNode(host, defaultPort);
        if (!int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            || number is < 1 or > 65535)
            throw new FormatException($"the broker host \"{text}\" has port \"{port}\", not a number from 1 to 65535");
        return new BrokerNode(host, number);
    }

    /// <summary>host:port, as MassTransit's cluster configuration and the URL take it.</summary>
    public override string ToString() => $"{Host}:{Port}";
}
