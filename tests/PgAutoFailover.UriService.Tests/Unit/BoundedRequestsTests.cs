using MassTransit;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.UriService.Tests.Unit;

/// <summary>
/// A request to the monitor ends by its deadline even when MassTransit's own request never ends, as seen while the
/// broker node under the connection was killed (services/service-defaults/BoundedRequests.cs).
/// </summary>
public sealed class BoundedRequestsTests
{
    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_request_that_never_ends_is_given_up_as_timed_out()
    {
        var never = new TaskCompletionSource<string>().Task;

        var e = await Assert.ThrowsAsync<RequestTimeoutException>(() =>
            BoundedRequests.Within(never, TimeSpan.FromMilliseconds(50), CancellationToken.None).WaitAsync(TestBound));

        Assert.Contains("did not end by itself", e.Message);
    }

    [Fact]
    public async Task An_answer_within_the_deadline_is_returned()
    {
        var answered = Task.FromResult("the monitor's answer");

        Assert.Equal("the monitor's answer", await BoundedRequests.Within(answered, TimeSpan.FromSeconds(5), CancellationToken.None));
    }

    [Fact]
    public async Task The_callers_cancellation_ends_the_wait()
    {
        var never = new TaskCompletionSource<string>().Task;
        using var stopping = new CancellationTokenSource();
        var waiting = BoundedRequests.Within(never, TimeSpan.FromMinutes(5), stopping.Token);

        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TestBound));
    }

    [Fact]
    public async Task A_request_failing_on_its_own_keeps_its_exception()
    {
        var failed = Task.FromException<string>(new InvalidOperationException("refused by the transport"));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => BoundedRequests.Within(failed, TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal("refused by the transport", e.Message);
    }
}
