namespace PgAutoFailover.Keeper.Postgres;

/// <summary>
/// What a running postmaster writes about itself in PGDATA/postmaster.pid: PID, data directory, start time, port, first
/// Unix socket directory, first listen address, shared memory key, status (one per line, in that order). How the keeper
/// reaches a server it did not start, which listens where its own settings say, not where the keeper would put it.
/// </summary>
public sealed record PostmasterPidFile(int Pid, int? Port, string? SocketDirectory)
{
    public static PostmasterPidFile? Read(string pgData)
    {
        string[] lines;
        try
        {
            // PostgreSQL rewrites the file in place as it starts (the port, the socket, the status): share it.
            using var stream = new FileStream(Path.Combine(pgData, "postmaster.pid"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            lines = reader.ReadToEnd().Split('\n');
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        if (!int.TryParse(lines[0], out var pid)) return null;
        int? port = lines.Length > 3 && int.TryParse(lines[3], out var p) ? p : null;
        var socket = lines.Length > 4 && lines[4].Trim() is { Length: > 0 } s ? s : null;
        return new PostmasterPidFile(pid, port, socket);
    }
}
