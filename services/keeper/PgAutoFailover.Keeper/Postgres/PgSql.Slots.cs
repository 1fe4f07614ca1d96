using Npgsql;

namespace PgAutoFailover.Keeper.Postgres;

/// <summary>The local server's replication slots: a node that becomes a standby drops those it kept as a primary; a primary drops those of removed nodes.</summary>
public sealed partial class PgSql
{
    public async Task DropAllSlotsAsync(CancellationToken cancellationToken) =>
        await ExecuteAsync($"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '{SlotPrefix}%' AND NOT active",
            cancellationToken);

    private const string SlotsOfRemovedNodes = $"""
        SELECT slot_name::text AS slot_name FROM pg_replication_slots
         WHERE slot_type = 'physical' AND NOT active
           AND slot_name ~ '^{SlotPrefix}[0-9]+$'
           AND slot_name <> ALL($1::text[])
        """;

    /// <summary>
    /// The inactive physical slots named <c>pgautofailover_standby_&lt;id&gt;</c> whose id is not in
    /// <paramref name="groupNodeIds"/> (nodes removed from the group); slots with other names never appear. One query.
    /// </summary>
    public async Task<IReadOnlyList<string>> SlotsOfRemovedNodesAsync(IReadOnlyList<long> groupNodeIds, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand(SlotsOfRemovedNodes, c);
        return await ReadNamesAsync(cmd, groupNodeIds, null, cancellationToken);
    }

    /// <summary>
    /// Drops those of <paramref name="slots"/> that are still slots of removed nodes (inactive, id not in
    /// <paramref name="groupNodeIds"/>), in one statement; returns the names dropped. A slot that became active (or
    /// was dropped) meanwhile is left for the next cycle.
    /// </summary>
    public async Task<IReadOnlyList<string>> DropSlotsOfRemovedNodesAsync(IReadOnlyList<long> groupNodeIds, IReadOnlyList<string> slots,
        CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        // MATERIALIZED: the drop runs only on rows that passed every filter (the planner may reorder WHERE clauses).
        await using var cmd = new NpgsqlCommand($"""
            WITH stale AS MATERIALIZED ({SlotsOfRemovedNodes} AND slot_name = ANY($2::text[]))
            SELECT slot_name, pg_drop_replication_slot(slot_name::name) FROM stale
            """, c);
        try
        {
            return await ReadNamesAsync(cmd, groupNodeIds, slots, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.ObjectInUse or PostgresErrorCodes.UndefinedObject)
        {
            return []; // a slot got a walsender (or was dropped) between the scan and the drop: next cycle decides again
        }
    }

    private static async Task<IReadOnlyList<string>> ReadNamesAsync(NpgsqlCommand cmd, IReadOnlyList<long> groupNodeIds, IReadOnlyList<string>? slots,
        CancellationToken cancellationToken)
    {
        cmd.Parameters.Add(new NpgsqlParameter { Value = groupNodeIds.Select(SlotName).ToArray() });
        if (slots is not null) cmd.Parameters.Add(new NpgsqlParameter { Value = slots.ToArray() });
        var names = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) names.Add(reader.GetString(0));
        return names;
    }
}
