using PgAutoFailover.Testing.EndToEnd;
using Xunit.Abstractions;

namespace PgAutoFailover.EndToEndTests;

/// <summary>The closing check of every scenario under write load.</summary>
internal static class NoLoss
{
    /// <summary>
    /// Stops the load and the poller, prints the load's summary, and asserts one writer throughout, every
    /// acknowledged write on <paramref name="primary"/>, and on each of <paramref name="followers"/> once it caught up.
    /// </summary>
    public static async Task AssertAsync(WriteLoad load, WriterPoller poller, ITestOutputHelper output, DataNode primary, params DataNode[] followers)
    {
        await load.StopAsync();
        await poller.DisposeAsync();
        output.WriteLine(load.Summary);
        Assert.Empty(poller.Violations);
        Assert.Empty(await load.MissingOnAsync(primary));
        foreach (var follower in followers) Assert.Empty(await load.MissingAfterCatchUpAsync(follower, TimeSpan.FromSeconds(60)));
    }
}
