using Microsoft.Extensions.Time.Testing;
using PgAutoFailover.Contracts;
using PgAutoFailover.Keeper.Core;

namespace PgAutoFailover.Keeper.Tests.Unit;

public sealed class StepProgressTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void A_step_is_reported_with_its_elapsed_time_then_with_the_tools_progress_and_not_after_it_ended()
    {
        var progress = new StepProgress(_clock);
        Assert.Null(progress.Current);
        using (progress.Begin("pg_basebackup from node 1 (10.0.0.11:5432)"))
        {
            _clock.Advance(TimeSpan.FromSeconds(3.4));
            Assert.Equal("pg_basebackup from node 1 (10.0.0.11:5432) running for 3 s", progress.Current);
            progress.Detail("45 MB / 120 MB (37 %)");
            _clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal("pg_basebackup from node 1 (10.0.0.11:5432): 45 MB / 120 MB (37 %), 4 s", progress.Current);
        }
        Assert.Null(progress.Current);
        progress.Detail("late line of a finished tool");
        Assert.Null(progress.Current);
    }

    [Fact]
    public void Ending_an_earlier_step_leaves_the_next_one_alone()
    {
        var progress = new StepProgress(_clock);
        var rewind = progress.Begin("pg_rewind from node 1 (h:1)");
        using var clone = progress.Begin("pg_basebackup from node 1 (h:1)");
        rewind.Dispose();
        Assert.Equal("pg_basebackup from node 1 (h:1) running for 0 s", progress.Current);
    }

    [Theory]
    [InlineData("46080/122880 kB (37%), 0/1 tablespace", "45 MB / 120 MB (37 %)")]
    [InlineData("  1234/ 23456 kB (5%), 0/1 tablespace (/var/lib/pgaf/node2.basebackup/base/1/1259)", "1.2 MB / 22 MB (5 %)")]
    [InlineData("2048/4096 kB (50%) copied", "2.0 MB / 4.0 MB (50 %)")]
    public void Copy_progress_lines_of_pg_basebackup_and_pg_rewind_are_read(string line, string expected) =>
        Assert.Equal(expected, StepProgress.ParseCopyProgress(line));

    [Theory]
    [InlineData("pg_basebackup: initiating base backup, waiting for checkpoint to complete")]
    [InlineData("pg_rewind: servers diverged at WAL location 0/3000060 on timeline 1")]
    [InlineData("")]
    public void Other_lines_are_not_progress(string line) => Assert.Null(StepProgress.ParseCopyProgress(line));
}

public sealed class ReportTextTests
{
    [Fact]
    public void Several_lines_become_one()
    {
        var text = "PostgreSQL of /d exited at start; log /d.keeper/postgres.log:\n2026-11-25 LOG:  starting\r\n\n   2026-11-25 FATAL:  configuration file contains errors  \n";
        Assert.Equal("PostgreSQL of /d exited at start; log /d.keeper/postgres.log: | 2026-11-25 LOG:  starting | 2026-11-25 FATAL:  configuration file contains errors",
            ReportText.OneLine(text));
    }

    [Fact]
    public void A_long_text_keeps_its_head_and_its_tail_within_the_bound()
    {
        var text = "pg_basebackup failed: " + new string('x', 2000) + " FATAL: no pg_hba.conf entry";
        var line = ReportText.OneLine(text, 200)!;
        Assert.Equal(200, line.Length);
        Assert.StartsWith("pg_basebackup failed: ", line);
        Assert.EndsWith("FATAL: no pg_hba.conf entry", line);
        Assert.Contains(" … ", line);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" \n ")]
    public void Nothing_stays_nothing(string? text) => Assert.Null(ReportText.OneLine(text));
}

public sealed class RestartDampingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly FakeTimeProvider _clock = new();

    private bool Report(RestartDamping d, NodeState state, bool running, NodeState? assigned = null) =>
        d.Reported(state, assigned ?? state, running, _clock.GetTimestamp(), Timeout, 3);

    [Fact]
    public void A_primary_reports_running_until_three_restarts_failed_then_the_truth()
    {
        var d = new RestartDamping(_clock);
        Assert.True(Report(d, NodeState.Primary, running: false));
        Assert.True(d.Hiding);
        d.RestartFailed(_clock.GetTimestamp());
        d.RestartFailed(_clock.GetTimestamp());
        Assert.True(Report(d, NodeState.Primary, running: false));
        d.RestartFailed(_clock.GetTimestamp());
        Assert.False(Report(d, NodeState.Primary, running: false));
        Assert.False(d.Hiding);
        Assert.Equal(3, d.FailedRestarts);
    }

    [Fact]
    public void A_primary_reports_the_truth_once_the_timeout_passed_since_it_was_first_seen_down()
    {
        var d = new RestartDamping(_clock);
        Assert.True(Report(d, NodeState.Primary, running: false));
        _clock.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.True(Report(d, NodeState.Primary, running: false));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(Report(d, NodeState.Primary, running: false));
    }

    [Fact]
    public void Postgres_up_again_resets_the_counters()
    {
        var d = new RestartDamping(_clock);
        Report(d, NodeState.Primary, running: false);
        d.RestartFailed(_clock.GetTimestamp());
        d.RestartFailed(_clock.GetTimestamp());
        _clock.Advance(TimeSpan.FromSeconds(15));
        Assert.True(Report(d, NodeState.Primary, running: true));
        Assert.Equal(0, d.FailedRestarts);
        _clock.Advance(TimeSpan.FromSeconds(10));
        d.RestartFailed(_clock.GetTimestamp());
        Assert.True(Report(d, NodeState.Primary, running: false)); // one failure, and the window starts again
    }

    [Theory]
    [InlineData(NodeState.Single)]
    [InlineData(NodeState.WaitPrimary)]
    [InlineData(NodeState.Secondary)]
    [InlineData(NodeState.CatchingUp)]
    [InlineData(NodeState.Demoted)]
    public void Every_other_state_reports_the_truth_at_once(NodeState state)
    {
        var d = new RestartDamping(_clock);
        Assert.False(Report(d, state, running: false));
        Assert.True(Report(d, state, running: true));
        Assert.False(d.Hiding);
    }

    [Theory]
    [InlineData(NodeState.Draining)]
    [InlineData(NodeState.DemoteTimeout)]
    [InlineData(NodeState.PrepareMaintenance)]
    [InlineData(NodeState.ApplySettings)]
    public void A_primary_the_monitor_moves_elsewhere_reports_the_truth_while_its_transition_stops_postgres(NodeState assigned)
    {
        var d = new RestartDamping(_clock);
        Assert.False(Report(d, NodeState.Primary, running: false, assigned));
        Assert.True(Report(d, NodeState.Primary, running: false)); // converged again: damped
    }

    [Fact]
    public void A_failure_window_from_another_state_does_not_carry_into_primary()
    {
        var d = new RestartDamping(_clock);
        d.RestartFailed(_clock.GetTimestamp());
        Report(d, NodeState.WaitPrimary, running: false);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.True(Report(d, NodeState.Primary, running: false));
    }
}

public sealed class ConfigReloadTests
{
    [Fact]
    public void Reloadable_settings_are_taken_and_the_others_only_reported()
    {
        var live = new KeeperOptions { PgData = "/d", Port = 5432, LoopPeriod = TimeSpan.FromSeconds(1), CandidatePriority = 50, GroupHosts = ["10.0.0.1"] };
        var configured = new KeeperOptions
        {
            PgData = "/d", Port = 5433, LoopPeriod = TimeSpan.FromMilliseconds(200), CandidatePriority = 70, GroupHosts = ["10.0.0.1", "10.0.0.2"],
            Name = "east", Host = "10.0.0.9", Formation = "other",
        };
        var changes = ConfigReload.Diff(live, configured);
        Assert.Equal(
            new Dictionary<string, (string, string, bool)>
            {
                ["Port"] = ("5432", "5433", false),
                ["Host"] = ("127.0.0.1", "10.0.0.9", true),
                ["Formation"] = ("default", "other", false),
                ["Name"] = ("", "east", true),
                ["CandidatePriority"] = ("50", "70", true),
                ["GroupHosts"] = ("10.0.0.1", "10.0.0.1,10.0.0.2", true),
                ["LoopPeriod"] = ("00:00:01", "00:00:00.2000000", true),
            },
            changes.ToDictionary(c => c.Name, c => (c.Old, c.New, c.Reloadable)));

        ConfigReload.Apply(live, configured, changes);
        Assert.Equal(TimeSpan.FromMilliseconds(200), live.LoopPeriod);
        Assert.Equal(70, live.CandidatePriority);
        Assert.Equal(["10.0.0.1", "10.0.0.2"], live.GroupHosts);
        Assert.Equal(("east", "10.0.0.9", "default"), (live.Name, live.Host, live.Formation));
        // The port needs a restart: PostgreSQL runs where it was started.
        Assert.Equal(5432, live.Port);
        Assert.Equal(["Formation", "Port"], ConfigReload.Diff(live, configured).Select(c => c.Name).Order());
    }

    [Fact]
    public void Equal_settings_are_no_change_and_secrets_are_never_compared()
    {
        var live = new KeeperOptions { PgData = "/d", GroupHosts = ["a"], ReplicationPassword = "one" };
        var configured = new KeeperOptions { PgData = "/d", GroupHosts = ["a"], ReplicationPassword = "two" };
        Assert.Empty(ConfigReload.Diff(live, configured));
    }

    [Fact]
    public void The_fencing_timings_the_monitors_margin_relies_on_are_not_reloadable()
    {
        Assert.DoesNotContain(nameof(KeeperOptions.FenceCheckPeriod), ConfigReload.Reloadable);
        Assert.DoesNotContain(nameof(KeeperOptions.FenceTimeout), ConfigReload.Reloadable);
        var changes = ConfigReload.Diff(new KeeperOptions(), new KeeperOptions { FenceCheckPeriod = TimeSpan.FromSeconds(5) });
        Assert.False(Assert.Single(changes).Reloadable);
    }
}

public sealed class ReportedTimelineTests
{
    [Theory]
    [InlineData(false, 0, 3, 3)] // primary: its checkpoint's timeline
    [InlineData(true, 3, 2, 3)]  // streaming standby: the receiver's, though its last restartpoint is a timeline behind
    [InlineData(true, 0, 2, 0)]  // standby without a receiver (primary gone, report_lsn): unknown, never the stale checkpoint's
    public void A_standby_reports_its_receivers_timeline_or_none(bool inRecovery, int received, int checkpoint, int reported) =>
        Assert.Equal(reported, PgAutoFailover.Keeper.Postgres.PgSql.ReportedTimeline(inRecovery, received, checkpoint));
}
