using System.Globalization;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>PostgreSQL's textual LSN: the high and low 32 bits in upper-case hex, "X/X" (e.g. 0/4000678).</summary>
public static class Lsn
{
    public static string Format(ulong lsn) =>
        string.Create(CultureInfo.InvariantCulture, $"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}");

    /// <summary>The "TLI: LSN" column of show state: the timeline right-aligned in 3 characters, a colon, the LSN.</summary>
    public static string FormatWithTimeline(int timeline, ulong lsn) =>
        string.Create(CultureInfo.InvariantCulture, $"{timeline,3}: {Format(lsn)}");

    public static bool TryParse(string text, out ulong lsn)
    {
        lsn = 0;
        var parts = text.Split('/');
        if (parts.Length != 2) return false;
        if (!uint.TryParse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)) return false;
        if (!uint.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low)) return false;
        lsn = ((ulong)high << 32) | low;
        return true;
    }
}
