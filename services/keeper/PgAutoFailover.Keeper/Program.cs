// pgaf keeper: `keeper create …` and `keeper run …` (see KeeperCommandLine).
return await PgAutoFailover.Keeper.KeeperCommandLine.RunAsync(args);
