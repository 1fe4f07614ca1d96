using JasperFx;
using Marten;

namespace PgAutoFailover.Monitor.Store;

/// <summary>Formations (docs/states.md#node-states): created by the operator, or the default one at start-up.</summary>
public sealed class FormationDirectory(IDocumentStore store, TimeProvider time)
{
    public async Task<FormationRecord?> FindAsync(string formation, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<FormationRecord>(formation, cancellationToken);
    }

    public async Task<IReadOnlyList<FormationRecord>> AllAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.Query<FormationRecord>().OrderBy(f => f.Id).ToListAsync(cancellationToken);
    }

    /// <summary>Creates the formation; false when it exists already.</summary>
    public async Task<bool> CreateAsync(string formation, string databaseName, int numberSyncStandbys, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        session.Insert(new FormationRecord
        {
            Id = formation, DatabaseName = databaseName, NumberSyncStandbys = numberSyncStandbys, CreatedAt = time.GetUtcNow(),
        });
        try
        {
            await session.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DocumentAlreadyExistsException)
        {
            return false;
        }
    }

    public async Task DropAsync(string formation, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        session.Delete<FormationRecord>(formation);
        await session.SaveChangesAsync(cancellationToken);
    }
}
