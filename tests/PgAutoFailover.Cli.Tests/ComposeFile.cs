namespace PgAutoFailover.Cli.Tests;

/// <summary>
/// Just enough of docker-compose.yml's structure for the deployment checks, read without a YAML library:
/// top-level keys at column 0, services at 2 spaces, their keys at 4, nested keys at 6 and 8 — the layout the
/// file keeps. (docker-compose config, when installed, validates the file itself.)
/// </summary>
public sealed class ComposeFile
{
    public sealed record Service(string Name, IReadOnlyList<string> Lines)
    {
        /// <summary>Keys of the service (4-space level); a merged anchor (&lt;&lt;: *x) is listed as "&lt;&lt;".</summary>
        public IReadOnlyList<string> Keys => Lines.Where(l => Indent(l) == 4).Select(KeyOf).ToList();

        /// <summary>The lines under a 4-space key, up to the next key of the same level.</summary>
        public IReadOnlyList<string> Block(string key)
        {
            var start = Lines.ToList().FindIndex(l => Indent(l) == 4 && KeyOf(l) == key);
            if (start < 0) return [];
            return Lines.Skip(start + 1).TakeWhile(l => Indent(l) > 4).ToList();
        }

        public string? Value(string key) => Lines.Where(l => Indent(l) == 4 && KeyOf(l) == key).Select(ValueOf).FirstOrDefault();
    }

    public IReadOnlyList<string> TopLevelKeys { get; }
    public IReadOnlyDictionary<string, Service> Services { get; }
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Anchors { get; }

    public ComposeFile(string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')).ToList();
        TopLevelKeys = lines.Where(l => Indent(l) == 0).Select(KeyOf).ToList();
        var services = new Dictionary<string, Service>();
        var anchors = new Dictionary<string, IReadOnlyList<string>>();
        for (var i = 0; i < lines.Count; i++)
        {
            if (Indent(lines[i]) == 0 && ValueOf(lines[i]) is { } value && value.StartsWith('&'))
            {
                // x-node: &node — a block merged into services; its lines are re-indented to service level.
                anchors[value[1..]] = lines.Skip(i + 1).TakeWhile(l => Indent(l) > 0).Select(l => "  " + l).ToList();
            }
            if (lines[i] != "services:") continue;
            for (var j = i + 1; j < lines.Count && Indent(lines[j]) > 0; j++)
            {
                if (Indent(lines[j]) != 2) continue;
                var name = KeyOf(lines[j]);
                var body = lines.Skip(j + 1).TakeWhile(l => Indent(l) > 2).ToList();
                services[name] = new Service(name, body);
            }
        }
        Anchors = anchors;
        // Merge "<<: *anchor" at service level (keys of the service win).
        Services = services.ToDictionary(s => s.Key, s =>
        {
            var merge = s.Value.Lines.FirstOrDefault(l => Indent(l) == 4 && KeyOf(l) == "<<");
            if (merge is null || !anchors.TryGetValue(ValueOf(merge)!.TrimStart('*'), out var merged)) return s.Value;
            var own = s.Value.Lines.Where(l => l != merge).ToList();
            var ownKeys = own.Where(l => Indent(l) == 4).Select(KeyOf).ToHashSet();
            var inherited = new List<string>();
            var skipping = false;
            foreach (var line in merged)
            {
                if (Indent(line) == 4) skipping = ownKeys.Contains(KeyOf(line));
                if (!skipping) inherited.Add(line);
            }
            return new Service(s.Key, [.. own, .. inherited]);
        }).ToDictionary(s => s.Key, s => s.Value with { Lines = ExpandAliases(s.Value.Lines, anchors) });
    }

    /// <summary>"healthcheck: *broker-healthcheck" at service level becomes the anchor's block under that key.</summary>
    private static List<string> ExpandAliases(IReadOnlyList<string> lines, Dictionary<string, IReadOnlyList<string>> anchors)
    {
        var expanded = new List<string>();
        foreach (var line in lines)
        {
            if (Indent(line) == 4 && ValueOf(line) is { } value && value.StartsWith('*') && anchors.TryGetValue(value[1..], out var block))
            {
                expanded.Add($"    {KeyOf(line)}:");
                expanded.AddRange(block.Select(l => "  " + l));
                continue;
            }
            expanded.Add(line);
        }
        return expanded;
    }

    public static int Indent(string line) => line.Length - line.TrimStart(' ').Length;

    public static string KeyOf(string line)
    {
        var trimmed = line.Trim().TrimStart('-', ' ');
        var colon = trimmed.IndexOf(':');
        return colon < 0 ? trimmed : trimmed[..colon].Trim('"', '\'');
    }

    public static string? ValueOf(string line)
    {
        var trimmed = line.Trim();
        var colon = trimmed.IndexOf(':');
        if (colon < 0) return null;
        var value = trimmed[(colon + 1)..].Trim();
        return value.Length == 0 ? null : value.Trim('"', '\'');
    }
}
