using PgAutoFailover.Keeper.Actions;

namespace PgAutoFailover.Keeper.Tests.Unit;

/// <summary>Which standbys a synchronous_standby_names value lists, as the primary checks before turning it on.</summary>
public sealed class SyncStandbyNamesTests
{
    [Theory]
    [InlineData("ANY 1 (pgautofailover_standby_2)", "pgautofailover_standby_2", true)]
    [InlineData("ANY 2 (pgautofailover_standby_2, pgautofailover_standby_3)", "pgautofailover_standby_3", true)]
    [InlineData("ANY 1 (\"pgautofailover_standby_12\")", "pgautofailover_standby_12", true)]
    [InlineData("ANY 1 (pgautofailover_standby_12)", "pgautofailover_standby_1", false)]
    [InlineData("", "pgautofailover_standby_2", false)]
    public void A_standby_counts_only_when_its_whole_name_is_listed(string names, string applicationName, bool listed) =>
        Assert.Equal(listed, PrimaryActions.NamesList(names, applicationName));
}
