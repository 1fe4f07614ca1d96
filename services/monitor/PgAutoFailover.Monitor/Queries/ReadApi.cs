using PgAutoFailover.Contracts;
using PgAutoFailover.ServiceDefaults;

namespace PgAutoFailover.Monitor.Queries;

/// <summary>
/// GET endpoints for the read-only questions (<see cref="MonitorReadApi"/>): a pgaf call or a poller gets
/// its answer with one HTTP request instead of starting a bus client (about 0.7 CPU-seconds each).
/// </summary>
public static class ReadApi
{
    public static WebApplication MapReadApi(this WebApplication app)
    {
        var broker = MonitorReadApi.BrokerIdentity(BrokerNodes.Parse(app.Services.GetRequiredService<BusOptions>().Url).Uri);
        var api = app.MapGroup("/formations/{formation}");
        api.AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.Response.Headers[MonitorReadApi.BrokerHeader] = broker;
            return await next(context);
        });
        api.MapGet("/state", async (string formation, FormationQueries queries, CancellationToken ct) =>
            Answer(formation, await queries.StateAsync(formation, ct)));
        api.MapGet("/events", async (string formation, int? group, int? count, FormationQueries queries, CancellationToken ct) =>
            Answer(formation, await queries.EventsAsync(new GetEvents(formation, group, count ?? 10), ct)));
        api.MapGet("/settings", async (string formation, FormationQueries queries, CancellationToken ct) =>
            Answer(formation, await queries.SettingsAsync(formation, ct)));
        return app;
    }

    private static IResult Answer<T>(string formation, QueryAnswer<T> answer) where T : class =>
        answer.Result is { } result ? Results.Ok(result) : Results.NotFound(new OperatorCommandRefused(formation, answer.Refusal!));
}
