using PgAutoFailover.Contracts;

namespace PgAutoFailover.Keeper.Tests.Unit;

/// <summary>KeeperOptions.Problems: every setting an operator can get wrong, named in one sentence (docs/operations.md#settings).</summary>
public sealed class OptionsTests
{
    private static KeeperOptions Valid() => new() { PgData = "/var/lib/pgaf/node1" };

    [Fact]
    public void The_defaults_with_a_data_directory_have_no_problem() => Assert.Empty(Valid().Problems());

    public static TheoryData<string, string> Cases => new()
    {
        { "PgData", "Keeper:PgData (--pgdata) is required" },
        { "Port", "Keeper:Port (--port): port 0 is not between 1 and 65535" },
        { "Host", "Keeper:Host (--hostname): the host is empty" },
        { "Formation", "Keeper:Formation (--formation): \"a b\" is not a valid formation name" },
        { "GroupId", "Keeper:GroupId (--group): group -1 is negative" },
        { "NodeId", "Keeper:NodeId: node id 0 is not a positive number" },
        { "CandidatePriority", "Keeper:CandidatePriority (--candidate-priority): candidate priority 101 is not between 0 and 100" },
        { "AuthMethod", "Keeper:AuthMethod (--auth) is \"md5\": it must be scram-sha-256 or trust" },
        { "LoopPeriod", "Keeper:LoopPeriod is 00:00:00: it must be more than zero" },
        { "FenceCheckPeriod", "Keeper:FenceCheckPeriod is -00:00:00.1000000: it must be more than zero" },
        { "CloneTimeout", "Keeper:CloneTimeout is 30.00:00:00: it must be at most 24 days" },
        { "PostgresRestartFailureMaxRetries", "Keeper:PostgresRestartFailureMaxRetries is -1: it must be between 0 and 1000" },
        { "ApplicationUser", "Keeper:ApplicationUser (--username) needs a password" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_bad_setting_is_one_sentence_naming_it(string setting, string expected)
    {
        var options = Valid();
        switch (setting)
        {
            case "PgData": options.PgData = " "; break;
            case "Port": options.Port = 0; break;
            case "Host": options.Host = ""; break;
            case "Formation": options.Formation = "a b"; break;
            case "GroupId": options.GroupId = -1; break;
            case "NodeId": options.NodeId = 0; break;
            case "CandidatePriority": options.CandidatePriority = 101; break;
            case "AuthMethod": options.AuthMethod = "md5"; break;
            case "LoopPeriod": options.LoopPeriod = TimeSpan.Zero; break;
            case "FenceCheckPeriod": options.FenceCheckPeriod = TimeSpan.FromMilliseconds(-100); break;
            case "CloneTimeout": options.CloneTimeout = TimeSpan.FromDays(30); break;
            case "PostgresRestartFailureMaxRetries": options.PostgresRestartFailureMaxRetries = -1; break;
            case "ApplicationUser": options.ApplicationUser = "app"; break;
        }
        var problem = Assert.Single(options.Problems());
        Assert.StartsWith(expected, problem);
    }

    [Fact]
    public void Zero_restart_failure_timeout_is_allowed_and_trust_in_any_case()
    {
        var options = Valid();
        options.PostgresRestartFailureTimeout = TimeSpan.Zero;
        options.AuthMethod = "TRUST";
        Assert.Empty(options.Problems());
    }

    [Fact]
    public void The_settings_rules_name_the_setting_and_the_bound()
    {
        Assert.Null(SettingRules.Duration("X", TimeSpan.FromSeconds(1)));
        Assert.Null(SettingRules.Duration("X", TimeSpan.Zero, zeroAllowed: true));
        Assert.Equal("X is -00:00:01: it must be more than zero or zero", SettingRules.Duration("X", TimeSpan.FromSeconds(-1), zeroAllowed: true));
        Assert.Equal("X is 5: it must be between 1 and 3", SettingRules.Between("X", 5, 1, 3));
        Assert.Null(SettingRules.Named("X", null));
    }
}
