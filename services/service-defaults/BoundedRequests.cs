using MassTransit;

namespace PgAutoFailover.ServiceDefaults;

/// <summary>
/// Requests that end by their deadline whatever the transport does. MassTransit's request timeout starts only once the
/// request is handed to the transport, and neither it nor the caller's cancellation ended a request sent while the
/// broker node under its connection was being killed: seen with a three-node RabbitMQ cluster, the caller waited for
/// good (docs/operations.md#a-broker-cluster). A service that asks the monitor must never wait for good.
/// </summary>
public static class BoundedRequests
{
    /// <summary>How long past its own timeout a request may take before it is given up for hung.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    public static Task<Response<T>> GetResponseWithin<TRequest, T>(this IRequestClient<TRequest> client, TRequest request,
        TimeSpan timeout, CancellationToken cancellationToken)
        where TRequest : class where T : class =>
        Bounded((token, requestTimeout) => client.GetResponse<T>(request, token, requestTimeout), timeout, cancellationToken);

    public static Task<Response<T1, T2>> GetResponseWithin<TRequest, T1, T2>(this IRequestClient<TRequest> client, TRequest request,
        TimeSpan timeout, CancellationToken cancellationToken)
        where TRequest : class where T1 : class where T2 : class =>
        Bounded((token, requestTimeout) => client.GetResponse<T1, T2>(request, token, requestTimeout), timeout, cancellationToken);

    /// <summary>MassTransit's own timeout and a cancellation at the deadline first, then <see cref="Within"/> should neither end it.</summary>
    private static async Task<T> Bounded<T>(Func<CancellationToken, RequestTimeout, Task<T>> send, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout);
        var response = send(bound.Token, RequestTimeout.After(ms: (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue)));
        return await Within(response, timeout, cancellationToken);
    }

    /// <summary>
    /// The answer of <paramref name="response"/>, or a <see cref="RequestTimeoutException"/> once it has taken
    /// <paramref name="timeout"/> and <see cref="Grace"/> without ending; the caller's cancellation ends the wait too.
    /// </summary>
    public static async Task<T> Within<T>(Task<T> response, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await response.WaitAsync(timeout + Grace, cancellationToken);
        }
        catch (TimeoutException)
        {
            // The request goes on in the background; observe its end so it is never an unobserved exception.
            _ = response.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            throw new RequestTimeoutException($"no answer within {timeout.TotalSeconds:0.###} s (the request did not end by itself)");
        }
    }
}
