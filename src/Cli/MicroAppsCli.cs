using MicroApps.Orleans.Cli.Commands;
using MicroApps.Orleans.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MicroApps.Orleans.Cli;

/// <summary>
/// The <c>microapps</c> command: citizen developers and operators drive the front door's admin API (and the app-facing
/// runtime) with it. Every failure is one clear line per problem and an exit code (<see cref="ExitCodes"/>), never a
/// stack trace.
/// </summary>
public static class MicroAppsCli
{
    /// <summary>Runs one command line; what it prints goes to <paramref name="console"/> (errors too).</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="console">Where output goes (tests pass a <c>TestConsole</c>).</param>
    /// <param name="handler">The HTTP handler to talk through; null for a new socket handler.</param>
    /// <returns>The exit code: 0, 1 refused or failed, 2 usage error, 3 front door unreachable.</returns>
    public static Task<int> RunAsync(string[] args, IAnsiConsole console, HttpMessageHandler? handler = null) =>
        RunAsync(args, console, console, handler, Environment.GetEnvironmentVariable);

    /// <summary>As <see cref="RunAsync(string[], IAnsiConsole, HttpMessageHandler?)"/>, with errors on their own console and the environment given.</summary>
    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, IAnsiConsole errors, HttpMessageHandler? handler, Func<string, string?> variables)
    {
        ArgumentNullException.ThrowIfNull(args);
        var registrar = new TypeRegistrar();
        registrar.RegisterInstance(typeof(CliEnvironment), new CliEnvironment(console, errors, handler, variables));
        var app = new CommandApp(registrar);
        app.Configure(config =>
        {
            config.SetApplicationName("microapps");
            config.ConfigureConsole(console);
            config.PropagateExceptions();
            Configure(config);
        });

        try
        {
            return await app.RunAsync(GlobalOptionsLast(DashValues(args)));
        }
        catch (CliException ex)
        {
            foreach (var line in ex.Lines)
            {
                WriteError(errors, line);
            }

            return ex.ExitCode;
        }
        catch (CommandAppException ex)
        {
            WriteError(errors, $"error: {OneLine(ex.Message)} (see microapps --help)");
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            WriteError(errors, "error: cancelled");
            return ExitCodes.Refused;
        }
        catch (Exception ex)
        {
            // Anything unforeseen is still one line: the CLI never prints a stack trace.
            WriteError(errors, $"error: {OneLine(ex.Message)}");
            return ExitCodes.Refused;
        }
    }

    private static void Configure(IConfigurator config)
    {
        config.AddCommand<NewCommand>("new")
            .WithDescription("Write a commented manifest skeleton from a catalog template.")
            .WithExample("new", "--template", "summarizer", "--app-id", "meeting-notes", "--team", "sales");
        config.AddCommand<ValidateCommand>("validate")
            .WithDescription("Validate a manifest (YAML or JSON): 'valid', or one line per error.")
            .WithExample("validate", "meeting-notes.yaml");
        config.AddCommand<PushCommand>("push")
            .WithDescription("Create the app as a draft, or add a draft version when it exists.")
            .WithExample("push", "meeting-notes.yaml");
        config.AddCommand<TestCommand>("test")
            .WithDescription("Run the draft's regression tests (and/or an input) with a test key.")
            .WithExample("test", "meeting-notes")
            .WithExample("test", "meeting-notes", "--input", "Summarize: ...");
        config.AddCommand<SubmitCommand>("submit")
            .WithDescription("Submit a draft version: the promotion gates run; shows their results.")
            .WithExample("submit", "meeting-notes");
        config.AddCommand<ApproveCommand>("approve")
            .WithDescription("Approve a submitted version (approver or admin token).")
            .WithExample("approve", "meeting-notes", "1", "--comment", "reviewed the tests");
        config.AddCommand<RejectCommand>("reject")
            .WithDescription("Reject a submitted version (approver or admin token).")
            .WithExample("reject", "meeting-notes", "1", "--comment", "needs a PII test");
        config.AddCommand<PromoteCommand>("promote")
            .WithDescription("Publish an approved version (approver or admin token).")
            .WithExample("promote", "meeting-notes", "1");
        config.AddCommand<RunCommand>("run")
            .WithDescription("Run the app as its callers do, with an app key.")
            .WithExample("run", "meeting-notes", "--key", "mak.meeting-notes.…", "--input", "Summarize: ...");
        config.AddCommand<StatusCommand>("status")
            .WithDescription("The app, its versions, release, keys and budget.")
            .WithExample("status", "meeting-notes");
        config.AddBranch("apps", apps =>
        {
            apps.SetDescription("Apps.");
            apps.AddCommand<AppsListCommand>("list").WithDescription("Every app with its state and spend.");
        });
        config.AddBranch("keys", keys =>
        {
            keys.SetDescription("App keys.");
            keys.AddCommand<KeysListCommand>("list").WithDescription("The app's keys (never their secrets).").WithExample("keys", "list", "meeting-notes");
            keys.AddCommand<KeysIssueCommand>("issue").WithDescription("Issue a key (--test: a test key that reaches the draft); shown once.")
                .WithExample("keys", "issue", "meeting-notes", "--label", "intranet");
            keys.AddCommand<KeysRevokeCommand>("revoke").WithDescription("Revoke a key.").WithExample("keys", "revoke", "meeting-notes", "k1a2b3");
        });
        config.AddCommand<CostCommand>("cost")
            .WithDescription("Spend over the last days, grouped by app, team, tier or model.")
            .WithExample("cost", "--by", "team", "--days", "30");
        config.AddCommand<LogsCommand>("logs")
            .WithDescription("The app's traced model calls, newest first.")
            .WithExample("logs", "meeting-notes", "--since", "2h", "--limit", "20");
        config.AddBranch("pack", pack =>
        {
            pack.SetDescription("App packs: export, import and fork, lineage kept.");
            pack.AddCommand<PackExportCommand>("export").WithDescription("Write the app's pack to a file.").WithExample("pack", "export", "meeting-notes");
            pack.AddCommand<PackImportCommand>("import").WithDescription("Create a draft app from a pack file.")
                .WithExample("pack", "import", "meeting-notes.pack.json", "--app-id", "meeting-notes-emea");
            pack.AddCommand<PackForkCommand>("fork").WithDescription("Fork an app into a new draft app.")
                .WithExample("pack", "fork", "meeting-notes", "--app-id", "meeting-notes-hr");
        });
        config.AddCommand<CatalogCommand>("catalog")
            .WithDescription("Browse the catalog: catalog [[search TEXT]] [[--tag TAG]] [[--kind KIND]].")
            .WithExample("catalog", "search", "summar", "--kind", "template");
    }

    /// <summary>
    /// Global options given before the command (<c>microapps --url X apps list</c>) moved after it, where
    /// Spectre.Console.Cli reads them; everything else keeps its order.
    /// </summary>
    internal static string[] GlobalOptionsLast(string[] args)
    {
        var moved = new List<string>();
        var index = 0;
        while (index < args.Length && args[index].StartsWith("--", StringComparison.Ordinal))
        {
            var name = args[index].Split('=', 2)[0];
            if (!GlobalSettings.Options.TryGetValue(name, out var takesValue))
            {
                break;
            }

            moved.Add(args[index]);
            if (takesValue && !args[index].Contains('=', StringComparison.Ordinal) && index + 1 < args.Length)
            {
                moved.Add(args[++index]);
            }

            index++;
        }

        return moved.Count == 0 || index >= args.Length ? args : [.. args[index..], .. moved];
    }

    /// <summary>An error line as it is: never wrapped at the console's width, so it stays one line.</summary>
    private static void WriteError(IAnsiConsole errors, string line)
    {
        var writer = errors.Profile.Out.Writer;
        writer.WriteLine(OneLine(line));
        writer.Flush();
    }

    /// <summary><c>--out -</c> as <c>--out=-</c>: Spectre.Console.Cli would read a lone <c>-</c> as a nameless option.</summary>
    internal static string[] DashValues(string[] args)
    {
        var result = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && !args[i].Contains('=', StringComparison.Ordinal) && i + 1 < args.Length && args[i + 1] == "-")
            {
                result.Add(args[i] + "=-");
                i++;
            }
            else
            {
                result.Add(args[i]);
            }
        }

        return [.. result];
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
