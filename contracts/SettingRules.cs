namespace PgAutoFailover.Contracts;

/// <summary>
/// The rules every service's settings are checked against once, at start (docs/operations.md#settings): one
/// sentence per problem, naming the setting, so an operator's typo stops the service with a clear line (exit code 78)
/// instead of a timer that throws later. Names, hosts and ports follow <see cref="MessageRules"/>, the monitor's rules.
/// </summary>
public static class SettingRules
{
    /// <summary>The longest wait .NET timers take (about 24.8 days).</summary>
    public static readonly TimeSpan LongestWait = TimeSpan.FromMilliseconds(int.MaxValue - 1);

    /// <summary>A period or timeout: more than zero (or zero, when allowed) and at most <see cref="LongestWait"/>.</summary>
    public static string? Duration(string setting, TimeSpan value, bool zeroAllowed = false) =>
        value < TimeSpan.Zero || (value == TimeSpan.Zero && !zeroAllowed)
            ? $"{setting} is {value}: it must be more than zero{(zeroAllowed ? " or zero" : "")}"
            : value > LongestWait ? $"{setting} is {value}: it must be at most {LongestWait.Days} days"
            : null;

    /// <summary>A whole number between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static string? Between(string setting, long value, long min, long max) =>
        value < min || value > max ? $"{setting} is {value}: it must be between {min} and {max}" : null;

    /// <summary>A rule of <see cref="MessageRules"/> applied to a setting: its problem, prefixed with the setting's name.</summary>
    public static string? Named(string setting, string? problem) => problem is null ? null : $"{setting}: {problem}";
}
