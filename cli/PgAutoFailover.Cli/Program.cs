using System.Runtime.InteropServices;
using PgAutoFailover.Cli;

using var interrupted = new CancellationTokenSource();

// Ctrl-C (SIGINT) and SIGTERM end the command cleanly: watch exits 0, other verbs stop waiting.
// A second signal is not cancelled, so it ends the process the default way.
void OnSignal(PosixSignalContext context)
{
    if (interrupted.IsCancellationRequested) return;
    context.Cancel = true;
    interrupted.Cancel();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
return await PgafApp.RunAsync(args, Console.Out, Console.Error, new PgafEnvironment(!Console.IsOutputRedirected), interrupted.Token);
