using Spectre.Console;

namespace MicroApps.Orleans.Cli;

internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        // Errors go to standard error, so `microapps … --json > file` keeps only the answer.
        var errors = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

        // Piped into a file or another command there is no terminal width: tables get room instead of 80 columns.
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Console.Profile.Width = 160;
        }

        return MicroAppsCli.RunAsync(args, AnsiConsole.Console, errors, handler: null, Environment.GetEnvironmentVariable);
    }
}
