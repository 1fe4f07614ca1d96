// Each benchmark arrives with the issue that sets its target.
Console.Error.WriteLine("usage: PgAutoFailover.Bench <benchmark>; none is implemented yet");
return 2;
