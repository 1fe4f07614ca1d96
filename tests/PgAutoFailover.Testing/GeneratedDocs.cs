using PgAutoFailover.Testing.EndToEnd;

namespace PgAutoFailover.Testing;

/// <summary>
/// Tables in docs/ that are written from the code: a block between <c>&lt;!-- generated: NAME --&gt;</c> and
/// <c>&lt;!-- end: NAME --&gt;</c> must equal what the code renders, so a changed rule fails a test until the page
/// changes with it. <c>PGAF_UPDATE_DOCS=1</c> rewrites the block instead.
/// </summary>
public static class GeneratedDocs
{
    public static void AssertBlock(string relativePath, string name, string generated)
    {
        var path = Path.Combine(ServiceProcess.RepositoryRoot, relativePath);
        var text = File.ReadAllText(path);
        string begin = $"<!-- generated: {name} -->", end = $"<!-- end: {name} -->";
        int b = text.IndexOf(begin, StringComparison.Ordinal), e = text.IndexOf(end, StringComparison.Ordinal);
        Assert.True(b >= 0 && e > b, $"{relativePath} has no block {begin} … {end}");
        var expected = "\n" + generated.TrimEnd('\n') + "\n";
        var current = text[(b + begin.Length)..e];
        if (current == expected) return;
        if (Environment.GetEnvironmentVariable("PGAF_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, text[..(b + begin.Length)] + expected + text[e..]);
            return;
        }
        Assert.Fail($"{relativePath}, block \"{name}\", is not what the code says: run the tests with PGAF_UPDATE_DOCS=1 and commit the page. Expected:{expected}");
    }

    /// <summary>Text safe inside a markdown table cell.</summary>
    public static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
