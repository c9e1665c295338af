using MicroApps.Orleans.Cli;
using Spectre.Console;

// Errors go to standard error, so `microapps … --json > file` keeps only the answer.
var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
return await MicroAppsCli.RunAsync(args, AnsiConsole.Console, errors, handler: null, Environment.GetEnvironmentVariable);
