using MassTransit;
using PgAutoFailover.Contracts;
using PgAutoFailover.Monitor.Queries;

namespace PgAutoFailover.Monitor.Messaging;

/// <summary>Read-only questions over the bus: state table, events, settings (docs/operations.md) and the topology snapshot.</summary>
public sealed class OperatorQueriesConsumer(FormationQueries queries) :
    IConsumer<GetFormationState>, IConsumer<GetEvents>, IConsumer<GetSettings>, IConsumer<GetTopology>
{
    public async Task Consume(ConsumeContext<GetFormationState> context) =>
        await RespondAsync(context, context.Message.Formation, await queries.StateAsync(context.Message.Formation, context.CancellationToken));

    public async Task Consume(ConsumeContext<GetEvents> context) =>
        await RespondAsync(context, context.Message.Formation, await queries.EventsAsync(context.Message, context.CancellationToken));

    public async Task Consume(ConsumeContext<GetSettings> context) =>
        await RespondAsync(context, context.Message.Formation, await queries.SettingsAsync(context.Message.Formation, context.CancellationToken));

    public async Task Consume(ConsumeContext<GetTopology> context) =>
        await context.RespondAsync(await queries.TopologyAsync(context.CancellationToken));

    private static Task RespondAsync<TQuery, TResult>(ConsumeContext<TQuery> context, string formation, QueryAnswer<TResult> answer)
        where TQuery : class where TResult : class =>
        answer.Result is { } result
            ? context.RespondAsync(result)
            : context.RespondAsync(new OperatorCommandRefused(formation, answer.Refusal!));
}
