using Spectre.Console;

namespace MicroApps.Orleans.Cli;

internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        // Errors go to standard error, so `microapps … --json > file` keeps only the answer.
        var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return MicroAppsCli.RunAsync(args, AnsiConsole.Console, errors, handler: null, Environment.GetEnvironmentVariable);
    }
}
