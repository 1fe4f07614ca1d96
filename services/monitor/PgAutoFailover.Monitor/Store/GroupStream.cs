namespace PgAutoFailover.Monitor.Store;

/// <summary>Names of the per-group event streams.</summary>
public static class GroupStream
{
    public static string Key(string formation, int groupId) => $"{formation}/{groupId}";

    public static string FormationPrefix(string formation) => $"{formation}/";
}
