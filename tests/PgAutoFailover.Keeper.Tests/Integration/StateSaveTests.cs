using Microsoft.Extensions.Logging.Abstractions;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Loop;
using PgAutoFailover.Keeper.Postgres;
using PgAutoFailover.Testing;

namespace PgAutoFailover.Keeper.Tests.Integration;

/// <summary>
/// A state file that cannot be written (a full disk; here a file standing where its folder should be) stops a
/// transition, never the keeper: what is only worth keeping goes on in memory and is written once the disk allows.
/// The fault campaign's "fill the standby's disk" found a keeper that went silent for good after its last error
/// could not be saved.
/// </summary>
public sealed class StateSaveTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("pgaf-state-save-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void An_unwritable_state_file_keeps_the_state_in_memory_and_the_next_save_writes_it_all()
    {
        var stateDirectory = Path.Combine(_root, "state");
        var options = new KeeperOptions { PgData = Path.Combine(_root, "pgdata"), StateDirectory = stateDirectory, Port = 5432 };
        var server = new PostgresServer(options, PgBinaries.Resolve(PgCluster.BinDirectory), new OsCommand(PgCluster.OsUser), NullLogger.Instance);
        var session = new KeeperSession(options, server, TimeProvider.System, NullLogger<KeeperSession>.Instance);
        File.WriteAllText(stateDirectory, "in the way");

        var failed = new KeeperState { CurrentState = NodeState.Secondary, LastError = "No space left on device", ReportSequence = 7 };
        session.TrySave(failed);
        Assert.Equal(failed, session.State);
        Assert.ThrowsAny<IOException>(() => session.Save(failed with { CurrentState = NodeState.CatchingUp }));

        File.Delete(stateDirectory);
        var later = failed with { ReportSequence = 8 };
        session.TrySave(later);
        var written = new StateStore(options.StateFile).Load();
        Assert.Equal(8, written?.ReportSequence);
        Assert.Equal("No space left on device", written?.LastError);
    }
}
