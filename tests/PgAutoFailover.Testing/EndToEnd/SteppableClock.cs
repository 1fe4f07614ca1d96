namespace PgAutoFailover.Testing.EndToEnd;

/// <summary>
/// A wall clock one process sees and a test can step, as settimeofday or an NTP step would step the host's: the process
/// runs with Debian's libfaketime preloaded, reading its offset from a file on every call (<see cref="StepAsync"/>
/// rewrites it). Its monotonic clock is left alone, as a real step leaves it (docs/faults.md, "A clock step").
/// </summary>
public sealed class SteppableClock
{
    private readonly string _offsetFile;
    private TimeSpan _offset;

    private SteppableClock(string offsetFile) => _offsetFile = offsetFile;

    /// <summary>A clock at the host's time, its offset kept in <paramref name="directory"/>.</summary>
    public static SteppableClock Create(string directory)
    {
        Directory.CreateDirectory(directory);
        var clock = new SteppableClock(Path.Combine(directory, $"clock-offset-{Guid.NewGuid():N}"[..26]));
        File.WriteAllText(clock._offsetFile, "+0");
        return clock;
    }

    /// <summary>The environment that puts a process on this clock (merge it into the process's own).</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["LD_PRELOAD"] = Library,
        ["FAKETIME_TIMESTAMP_FILE"] = _offsetFile,
        ["FAKETIME_DONT_FAKE_MONOTONIC"] = "1",
        // Read at every call: a step lands at once, not at the next cache refresh (10 s by default).
        ["FAKETIME_NO_CACHE"] = "1",
    };

    /// <summary>Steps the clock by <paramref name="step"/> (forward when positive) from where it is.</summary>
    public async Task StepAsync(TimeSpan step)
    {
        _offset += step;
        // Written aside and renamed: the process never reads a half-written offset.
        var next = _offsetFile + ".next";
        await File.WriteAllTextAsync(next, $"{(_offset >= TimeSpan.Zero ? "+" : "-")}{Math.Abs((long)_offset.TotalSeconds)}");
        File.Move(next, _offsetFile, overwrite: true);
    }

    // Debian installs it under the multiarch folder: /usr/lib/x86_64-linux-gnu/faketime/ on amd64.
    private static string Library =>
        Directory.EnumerateDirectories("/usr/lib", "*-linux-gnu*").Select(d => Path.Combine(d, "faketime", "libfaketime.so.1")).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("libfaketime.so.1 not found in /usr/lib/*-linux-gnu/faketime: install Debian's faketime package (test.sh does)");
}
