using System.Text.Json;
using System.Text.Json.Serialization;

namespace PgAutoFailover.Keeper.Core;

/// <summary>The state file: JSON, written atomically (temp file, fsync, rename) so a crash leaves the old or the new state, never half.</summary>
public sealed class StateStore(string path)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public string Path { get; } = path;
    public bool Exists => File.Exists(Path);

    public KeeperState? Load() => Exists ? JsonSerializer.Deserialize<KeeperState>(File.ReadAllText(Path), Json) : null;

    public void Save(KeeperState state)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        var temp = Path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, state, Json);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, Path, overwrite: true);
    }
}
