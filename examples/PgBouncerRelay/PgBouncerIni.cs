
namespace PgBouncerRelay;

/// <summary>Edits the [databases] section of a pgbouncer.ini, leaving every other line as it was. Pure.</summary>
internal static class PgBouncerIni
{
    /// <summary>The connect string of a database entry.</summary>
    public static string ConnectString(string host, int port, string dbname) => $"host={host} port={port} dbname={dbname}";

    /// <summary>
    /// <paramref name="ini"/> with the entry <paramref name="alias"/> of [databases] set to <paramref name="connect"/>:
    /// the existing line replaced, or a new one added at the end of the section (the section added first when missing).
    /// </summary>
    public static string SetDatabase(string ini, string alias, string connect)
    {
        var lines = ini.ReplaceLineEndings("\n").Split('\n').ToList();
        var entry = $"{alias} = {connect}";
        var section = lines.FindIndex(l => IsSection(l, "databases"));
        if (section < 0)
        {
            lines.InsertRange(0, ["[databases]", entry, ""]);
            return string.Join('\n', lines);
        }
        var end = lines.FindIndex(section + 1, l => l.TrimStart().StartsWith('['));
        if (end < 0) end = lines.Count;
        for (var i = section + 1; i < end; i++)
        {
            if (KeyOf(lines[i]) is { } key && string.Equals(key, alias, StringComparison.Ordinal))
            {
                lines[i] = entry;
                return string.Join('\n', lines);
            }
        }
        var insertAt = end;
        while (insertAt > section + 1 && lines[insertAt - 1].Trim().Length == 0) insertAt--; // before the blank lines ending the section
        lines.Insert(insertAt, entry);
        return string.Join('\n', lines);
    }

    /// <summary>The value of <paramref name="key"/> in <paramref name="section"/> (a database's connect string, "pidfile"…), or null.</summary>
    public static string? Get(string ini, string section, string key)
    {
        var inSection = false;
        foreach (var line in ini.ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.TrimStart().StartsWith('[')) { inSection = IsSection(line, section); continue; }
            if (inSection && KeyOf(line) == key) return line[(line.IndexOf('=') + 1)..].Trim();
        }
        return null;
    }

    private static bool IsSection(string line, string name) =>
        line.Trim() is var t && t.StartsWith('[') && t.EndsWith(']') && string.Equals(t[1..^1].Trim(), name, StringComparison.OrdinalIgnoreCase);

    private static string? KeyOf(string line)
    {
        var t = line.Trim();
        if (t.Length == 0 || t[0] is ';' or '#') return null;
        var eq = t.IndexOf('=');
        return eq > 0 ? t[..eq].Trim() : null;
    }
}
