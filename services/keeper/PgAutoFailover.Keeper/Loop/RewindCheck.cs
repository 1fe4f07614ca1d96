using System.Globalization;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;
using PgAutoFailover.Keeper.Postgres;

namespace PgAutoFailover.Keeper.Loop;

/// <summary>The evidence for <see cref="RewindDecision"/>, gathered from the local data directory and the new primary.</summary>
internal static partial class RewindCheck
{
    /// <summary>
    /// True when this old primary's WAL ends at or before the point where the new primary's timeline left it, so that
    /// PostgreSQL follows the new timeline by itself and pg_rewind is not needed (<see cref="RewindDecision"/>).
    /// Any doubt (a tool missing, an answer not understood, the primary unreachable) answers false: rewind.
    /// </summary>
    public static async Task<bool> FollowsWithoutRewindAsync(KeeperOptions options, PostgresServer server, ReplicationLogin replication,
        NodeAddress primary, ILogger logger, CancellationToken ct)
    {
        var waldump = server.Binaries.Path("pg_waldump");
        if (!File.Exists(waldump) || !File.Exists(server.Binaries.Path("psql"))) return false;
        try
        {
            var control = await server.ControlDataAsync(ct);
            if (!control.TryGetValue("Latest checkpoint's TimeLineID", out var tliText) || !uint.TryParse(tliText, out var localTimeline)
                || !control.TryGetValue("Latest checkpoint's REDO location", out var redoText) || RewindDecision.ParseLsn(redoText) is not { } redo)
            {
                return false;
            }
            var upstreamTimeline = (uint)await UpstreamSql.UpstreamTimelineAsync(primary, replication, ct);
            if (upstreamTimeline <= localTimeline) return false;
            // TIMELINE_HISTORY through psql: Npgsql 9/10 reads its content column as bytea, PostgreSQL 15+ sends text.
            var history = await server.Os.RunAsync(server.Binaries.Path("psql"),
                [$"host={primary.Host} port={primary.Port} user={PgSql.ReplicationUser} dbname=postgres replication=true connect_timeout=5",
                    "-X", "-A", "-t", "-F", "\n", "-c", $"TIMELINE_HISTORY {upstreamTimeline}"],
                TimeSpan.FromSeconds(30), ct, replication.LibpqEnvironment());
            var switchPoint = history.ExitCode == 0 ? RewindDecision.SwitchPointOff(history.StandardOutput, localTimeline) : null;
            if (switchPoint is not { } at) return false;
            var dump = await server.Os.RunAsync(waldump,
                ["--path", Path.Combine(options.PgData, "pg_wal"), "--timeline", localTimeline.ToString(CultureInfo.InvariantCulture), "--start", Actions.StandbySetup.FormatLsn(at), "--limit", "1"],
                TimeSpan.FromSeconds(30), ct);
            var follows = RewindDecision.CanFollowWithoutRewind(localTimeline, redo, upstreamTimeline, switchPoint,
                RewindDecision.WalEndsAtOrBefore(dump.ExitCode, dump.Combined));
            if (follows) Log.NoRewindNeeded(logger, localTimeline, Actions.StandbySetup.FormatLsn(at), upstreamTimeline);
            else Log.RewindNeeded(logger, localTimeline, Actions.StandbySetup.FormatLsn(at), upstreamTimeline);
            return follows;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Only an optimisation: whatever went wrong, pg_rewind (then a base backup) is the safe way on.
            Log.RewindAssumedNeeded(logger, e.Message);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "No pg_rewind needed: the local WAL on timeline {Local} ends before {SwitchPoint}, where the primary's timeline {Upstream} begins")]
        public static partial void NoRewindNeeded(ILogger logger, uint local, string switchPoint, uint upstream);

        [LoggerMessage(Level = LogLevel.Information, Message = "pg_rewind needed: the local WAL on timeline {Local} goes past {SwitchPoint}, where the primary's timeline {Upstream} begins")]
        public static partial void RewindNeeded(ILogger logger, uint local, string switchPoint, uint upstream);

        [LoggerMessage(Level = LogLevel.Information, Message = "pg_rewind assumed needed: {Reason}")]
        public static partial void RewindAssumedNeeded(ILogger logger, string reason);
    }
}
