using System.Text;

namespace PgAutoFailover.Cli.Formatting;

/// <summary>One column of a <see cref="TextTable"/>.</summary>
/// <param name="Header">Header text.</param>
/// <param name="MinWidth">Minimum width, so that a refreshed table keeps its shape.</param>
/// <param name="LeftAligned">Left-align (free text in a last column); pg_autoctl right-aligns the others.</param>
public sealed record TextColumn(string Header, int MinWidth = 0, bool LeftAligned = false);

/// <summary>
/// pg_autoctl's plain table: cells separated by " | ", a dashed line with "-+-" under the header,
/// columns as wide as their widest cell. No trailing spaces.
/// </summary>
public static class TextTable
{
    public static string Render(IReadOnlyList<TextColumn> columns, IEnumerable<IReadOnlyList<string>> rows)
    {
        var body = rows.ToList();
        foreach (var row in body)
        {
            if (row.Count != columns.Count)
                throw new ArgumentException($"a row has {row.Count} cells for {columns.Count} columns", nameof(rows));
        }

        var widths = columns.Select((c, i) => Math.Max(Math.Max(c.MinWidth, c.Header.Length), body.Count == 0 ? 0 : body.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        AppendLine(text, columns, widths, columns.Select(c => c.Header).ToList());
        text.Append(string.Join("-+-", widths.Select(w => new string('-', w)))).Append('\n');
        foreach (var row in body) AppendLine(text, columns, widths, row);
        return text.ToString();
    }

    private static void AppendLine(StringBuilder text, IReadOnlyList<TextColumn> columns, int[] widths, IReadOnlyList<string> cells)
    {
        var line = string.Join(" | ", cells.Select((cell, i) => columns[i].LeftAligned ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i])));
        text.Append(line.TrimEnd()).Append('\n');
    }
}
