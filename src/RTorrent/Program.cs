using RTorrent.Cli;

// Every subcommand lives in its own file under Cli/ and is registered in CliApp.BuildRootCommand.
return await CliApp.RunAsync(args);
