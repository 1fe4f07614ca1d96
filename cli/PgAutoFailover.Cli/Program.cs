using PgAutoFailover.Cli;

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl-C ends the command cleanly (watch exits 0); a second one kills the process.
    if (interrupted.IsCancellationRequested) return;
    e.Cancel = true;
    interrupted.Cancel();
};
return await PgafApp.RunAsync(args, Console.Out, Console.Error, new PgafEnvironment(!Console.IsOutputRedirected), interrupted.Token);
