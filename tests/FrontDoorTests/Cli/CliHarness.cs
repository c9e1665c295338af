using System.Text.Json;
using MicroApps.Orleans.Cli;
using Spectre.Console.Testing;

namespace MicroApps.Orleans.FrontDoorTests.Cli;

/// <summary>What one run of the CLI printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Output, string Errors)
{
    public IReadOnlyList<string> ErrorLines => Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public JsonElement Json()
    {
        using var json = JsonDocument.Parse(Output);
        return json.RootElement.Clone();
    }

    public override string ToString() => $"exit {ExitCode}\n--- output\n{Output}\n--- errors\n{Errors}";
}

/// <summary>
/// Runs <c>microapps</c> in process against the fixture's running front door, with a wide test console (so tables do not
/// wrap ids) and an empty environment (so MICROAPPS_* variables of the machine never leak in). Files live in a temp folder.
/// </summary>
public sealed class CliHarness(FrontDoorFixture fixture) : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("microapps-cli-tests-").FullName;

    public string PathOf(string file) => System.IO.Path.Combine(Folder, file);

    /// <summary>Runs the command with the front door's URL and, unless <paramref name="token"/> is null, a token.</summary>
    public Task<CliResult> RunAsync(string? token, params string[] args) =>
        RunRawAsync([.. args, "--url", fixture.BaseAddress.ToString(), .. token is null ? Array.Empty<string>() : ["--token", token]]);

    /// <summary>Runs the command as the admin.</summary>
    public Task<CliResult> AdminAsync(params string[] args) => RunAsync(FrontDoorFixture.AdminToken, args);

    /// <summary>Runs exactly these arguments.</summary>
    public static async Task<CliResult> RunRawAsync(string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var console = new TestConsole().Width(400);
        var errors = new TestConsole().Width(400);
        var code = await MicroAppsCli.RunAsync(args, console, errors, handler: null, name => environment?.GetValueOrDefault(name));
        return new CliResult(code, console.Output, errors.Output);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
