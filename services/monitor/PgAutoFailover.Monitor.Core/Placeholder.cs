namespace PgAutoFailover.Monitor.Core;

internal static class Placeholder;
