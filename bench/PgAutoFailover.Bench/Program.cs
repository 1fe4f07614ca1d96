// A small dispatcher: each benchmark lives in its own file and takes the remaining arguments.
using PgAutoFailover.Bench;

var benchmarks = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.OrdinalIgnoreCase)
{
    ["monitor"] = MonitorBenchmark.RunAsync,
    ["probes"] = ProbeBenchmark.RunAsync,
    ["broker-restart"] = BrokerRestartBenchmark.RunAsync,
    // Helper process for "probes --fake-servers": a minimal PostgreSQL protocol server.
    ["fake-pg"] = FakePostgresServer.RunAsync,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: PgAutoFailover.Bench <benchmark> [options]; benchmarks: {string.Join(", ", benchmarks.Keys)}");
    return 2;
}
return await run(args[1..]);
