using System.CommandLine;

// pgaf verbs: Options shared by several verbs.
namespace PgAutoFailover.Cli;

public static partial class PgafApp
{
    private sealed partial class App
    {
        // ---- options shared by several verbs

        private static Option<string> FormationOption() => new("--formation")
        {
            Description = "Formation name",
            DefaultValueFactory = _ => "default",
        };

        private static Option<int> GroupOption() => new("--group")
        {
            Description = "Group id",
            DefaultValueFactory = _ => 0,
        };

        private static Option<bool> JsonOption() => new("--json") { Description = "Print JSON instead of a table" };

        private static Option<long?> NodeIdOption(string description) => new("--node-id") { Description = description };
    }
}
