using MassTransit;
using PgAutoFailover.Contracts;

namespace PgAutoFailover.Cli;

/// <summary>
/// Ends a bus start the moment the broker refuses this client in a way no retry mends (a virtual host that does not
/// exist, a user not let into it: <see cref="BrokerRefusal"/>). MassTransit retries those like an unreachable broker,
/// so without this watch pgaf would wait out its whole --timeout before saying what it already knew.
/// </summary>
internal sealed class BrokerRefusalWatch : IReceiveEndpointObserver
{
    private readonly TaskCompletionSource<string> _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the refusal's reason, in an operator's words; never completes for anything a retry may mend.</summary>
    public Task<string> Refused => _refused.Task;

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        if (faulted.Exception is { } error && BrokerRefusal.Classify(error) is { } refusal) _refused.TrySetResult(refusal.Reason);
        return Task.CompletedTask;
    }

    public Task Ready(ReceiveEndpointReady ready) => Task.CompletedTask;

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;
}
