// The keeper's commands (create, run) arrive with the keeper issue.
Console.Error.WriteLine("pgaf-keeper: not implemented yet");
return 2;
