namespace PgAutoFailover.Keeper.Core;

/// <summary>Text the keeper puts in a report: one line, bounded, so the monitor and <c>pgaf show state</c> can print it as is.</summary>
public static class ReportText
{
    /// <summary>Default bound on a reported line.</summary>
    public const int MaxLength = 500;

    /// <summary>
    /// Line breaks (with the blanks around them) become " | "; a longer text keeps its head and its tail
    /// (where tools print the actual error) around " … ". Null or blank stays null.
    /// </summary>
    public static string? OneLine(string? text, int maxLength = MaxLength)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var lines = text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = string.Join(" | ", lines);
        if (line.Length <= maxLength) return line;
        var head = (maxLength - 3) * 2 / 5;
        var tail = maxLength - 3 - head;
        return string.Concat(line.AsSpan(0, head), " … ", line.AsSpan(line.Length - tail));
    }
}
