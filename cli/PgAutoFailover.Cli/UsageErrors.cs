using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace PgAutoFailover.Cli;

/// <summary>
/// System.CommandLine's parse errors in an operator's words: "--count needs a whole number, got '--json'" rather than
/// "Cannot parse argument '--json' for option '--count' as expected type 'System.Int32'". Also catches what the parser
/// accepts but an operator never means: a flag's value that is another flag of the command ("--formation --json"
/// took "--json" as the formation).
/// </summary>
internal static partial class UsageErrors
{
    /// <summary>The one-line error for <paramref name="parsed"/>, or null when it has none.</summary>
    public static string? Describe(ParseResult parsed)
    {
        if (FlagTakenAsValue(parsed) is { } swallowed) return swallowed;
        if (parsed.Errors.Count == 0) return null;
        // "Required command was not provided" is the least telling error when a word was not recognised.
        var error = parsed.Errors.OrderBy(e => e.Message.StartsWith("Required command", StringComparison.Ordinal) ? 1 : 0).First();
        return Rephrase(error.Message.ReplaceLineEndings(" ").Trim(), parsed.CommandResult.Command);
    }

    private static string? FlagTakenAsValue(ParseResult parsed)
    {
        var flags = new HashSet<string>(StringComparer.Ordinal);
        for (var command = parsed.CommandResult; command is not null; command = command.Parent as CommandResult)
        {
            foreach (var option in command.Command.Options)
            {
                flags.Add(option.Name);
                foreach (var alias in option.Aliases) flags.Add(alias);
            }
        }
        foreach (var option in parsed.CommandResult.Children.OfType<OptionResult>())
        {
            if (option.Tokens.FirstOrDefault(t => flags.Contains(t.Value)) is { } token)
                return $"{option.Option.Name} needs a value, and '{token.Value}' is an option of its own";
        }
        return null;
    }

    private static string Rephrase(string message, Command command)
    {
        if (CannotParse().Match(message) is { Success: true } bad)
            return $"{bad.Groups["option"].Value} needs {Kind(bad.Groups["type"].Value)}, got '{bad.Groups["value"].Value}'";
        if (MissingValue().Match(message) is { Success: true } missing)
            return $"{missing.Groups["option"].Value} needs a value";
        if (MissingArgument().IsMatch(message) && command.Arguments.FirstOrDefault() is { } argument)
            return $"'{command.Name}' needs <{argument.Name}>";
        if (message.StartsWith("Required command was not provided", StringComparison.Ordinal) && command.Subcommands.Count > 0)
            return $"'{command.Name}' needs one of: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}";
        if (Unrecognized().Match(message) is { Success: true } unknown)
            return $"'{unknown.Groups["token"].Value}' is not a command or option here";
        return message;
    }

    private static string Kind(string dotnetType) => dotnetType switch
    {
        _ when dotnetType.Contains("Int", StringComparison.Ordinal) => "a whole number",
        _ when dotnetType.Contains("Double", StringComparison.Ordinal) || dotnetType.Contains("Decimal", StringComparison.Ordinal) => "a number",
        _ when dotnetType.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ => "another value",
    };

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial Regex CannotParse();

    [GeneratedRegex(@"^Required argument missing for option: '(?<option>[^']+)'")]
    private static partial Regex MissingValue();

    [GeneratedRegex(@"^Required argument missing for command: ")]
    private static partial Regex MissingArgument();

    [GeneratedRegex(@"^Unrecognized command or argument '(?<token>.*)'")]
    private static partial Regex Unrecognized();
}
