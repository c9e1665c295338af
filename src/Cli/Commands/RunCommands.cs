using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MicroApps.Orleans.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MicroApps.Orleans.Cli.Commands;

/// <summary>One assertion checked against a run: passed, failed, or not checked here.</summary>
internal sealed record AssertionCheck(string Kind, string Value, bool? Passed, string Detail);

/// <summary>
/// The regression assertions checked on the CLI's side against a run's answer, with the platform's semantics
/// (case-insensitive contains, culture-invariant regex with a 1 s timeout, output tokens, cost). <c>json_schema</c> is
/// left to the promotion gate, which validates schemas; it is reported as not checked.
/// </summary>
internal static class Assertions
{
    public static AssertionCheck Check(string kind, string value, string output, long outputTokens, decimal costUsd)
    {
        switch (kind)
        {
            case "contains":
                return new(kind, value, output.Contains(value, StringComparison.OrdinalIgnoreCase), $"output {(output.Contains(value, StringComparison.OrdinalIgnoreCase) ? "contains" : "does not contain")} '{value}'");
            case "not_contains":
                var found = output.Contains(value, StringComparison.OrdinalIgnoreCase);
                return new(kind, value, !found, $"output {(found ? "contains" : "does not contain")} '{value}'");
            case "regex":
                try
                {
                    var match = Regex.IsMatch(output, value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                    return new(kind, value, match, match ? "matches" : "does not match");
                }
                catch (ArgumentException ex)
                {
                    return new(kind, value, false, $"the regex does not compile: {ex.Message}");
                }
                catch (RegexMatchTimeoutException)
                {
                    return new(kind, value, false, "the regex timed out (1 s)");
                }

            case "max_tokens":
                return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var max)
                    ? new(kind, value, outputTokens <= max, $"{outputTokens} output tokens")
                    : new(kind, value, false, $"'{value}' is not a whole number");
            case "max_cost_usd":
                return decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var limit)
                    ? new(kind, value, costUsd <= limit, $"cost ${costUsd.ToString("0.########", CultureInfo.InvariantCulture)}")
                    : new(kind, value, false, $"'{value}' is not a decimal");
            case "json_schema":
                return new(kind, "(schema)", null, "not checked locally: the promotion gate validates JSON schemas");
            default:
                return new(kind, value, false, $"unknown assertion kind '{kind}'");
        }
    }
}

/// <summary>What a run of the hosted runtime answered.</summary>
internal sealed record RunAnswer(string RunId, string Output, long InputTokens, long OutputTokens, decimal CostUsd, JsonNode? Json)
{
    public static RunAnswer From(JsonNode? json)
    {
        var usage = json?["usage"];
        long Tokens(params string[] names) => names.Select(n => J.Long(usage, n)).FirstOrDefault(v => v > 0);
        return new(J.Str(json, "runId"), J.Str(json, "output"), Tokens("inputTokens", "prompt_tokens", "input_tokens"),
            Tokens("outputTokens", "completion_tokens", "output_tokens"), J.Dec(json, "costUsd"), json);
    }

    /// <summary>Runs the app with an app key (production or test): <c>POST /apps/{appId}/run</c>.</summary>
    public static async Task<RunAnswer> RunAsync(FrontDoorClient client, string appId, string apiKey, string input, CancellationToken cancellationToken)
    {
        var response = await client.PostJsonAsync($"apps/{Uri.EscapeDataString(appId)}/run", new { input }, apiKey, cancellationToken);
        return From(response.Json);
    }
}

/// <summary>Settings of <c>test</c>.</summary>
public sealed class TestSettings : AppSettings
{
    [CommandOption("--input <TEXT>")]
    [Description("Run this input and show the answer.")]
    public string? Input { get; set; }

    [CommandOption("--file <FILE>")]
    [Description("Run the text of this file and show the answer.")]
    public string? File { get; set; }

    [CommandOption("--tests")]
    [Description("Also run the manifest's regression tests when --input or --file is given (they run by default otherwise).")]
    public bool Tests { get; set; }

    [CommandOption("--version <N>")]
    [Description("Test this version (default: the newest unreleased one, what a test key reaches).")]
    public int? Version { get; set; }

    public override ValidationResult Validate() =>
        Input is not null && File is not null ? ValidationResult.Error("give --input or --file, not both")
        : Version is < 1 ? ValidationResult.Error("--version must be 1 or more")
        : ValidationResult.Success();
}

/// <summary>
/// <c>test APP</c>: issues a test key (it reaches the draft), runs the manifest's regression tests and/or the given input
/// through the hosted runtime, checks each assertion, prints the results, and revokes the key.
/// </summary>
internal sealed class TestCommand(CliEnvironment environment) : ApiCommand<TestSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, TestSettings settings, CancellationToken cancellationToken)
    {
        var app = Esc(settings.AppId);
        string? input = settings.Input;
        if (settings.File is { } file)
        {
            try
            {
                input = await System.IO.File.ReadAllTextAsync(file, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw CliException.Usage($"cannot read {file}: {ex.Message}");
            }
        }

        var runTests = input is null || settings.Tests;
        var tests = runTests ? await LoadTestsAsync(client, settings, cancellationToken) : [];
        if (runTests && input is null && tests.Count == 0)
        {
            throw CliException.Refused($"{settings.AppId} has no regression tests in its manifest: add `tests:` or pass --input TEXT");
        }

        var key = await client.PostJsonAsync($"admin/apps/{app}/test-keys", new { label = "microapps test", version = settings.Version }, cancellationToken: cancellationToken);
        var apiKey = J.Str(key.Json, "apiKey");
        var keyId = J.Str(key.Json, "keyId");
        var results = new JsonArray();
        var failed = false;
        try
        {
            if (input is not null)
            {
                var answer = await WithStatusAsync(settings, $"running {settings.AppId} with the test key…", () => RunAnswer.RunAsync(client, settings.AppId, apiKey, input, cancellationToken));
                results.Add(new JsonObject { ["input"] = input, ["answer"] = answer.Json?.DeepClone() });
                if (!settings.Json)
                {
                    Console.Write(new Panel(new Text(answer.Output)).Header($"answer (run {E(answer.RunId)})"));
                    Line($"{answer.InputTokens} tokens in, {answer.OutputTokens} out, {E(Usd(answer.CostUsd))}");
                }
            }

            var table = new Table().Title("regression tests").AddColumns("test", "assertion", "result", "detail");
            foreach (var test in tests)
            {
                var name = J.Str(test, "name");
                var testInput = J.Str(test, "input");
                var entry = new JsonObject { ["name"] = name };
                results.Add(entry);
                RunAnswer answer;
                try
                {
                    answer = await WithStatusAsync(settings, $"running test {name}…", () => RunAnswer.RunAsync(client, settings.AppId, apiKey, testInput, cancellationToken));
                }
                catch (CliException refused) when (refused.ExitCode == ExitCodes.Refused)
                {
                    failed = true;
                    var reason = string.Join("; ", refused.Lines.Select(l => l.StartsWith("error: ", StringComparison.Ordinal) ? l[7..] : l));
                    entry["error"] = reason;
                    table.AddRow(E(name), "(run)", "[red]fail[/]", E(reason));
                    continue;
                }

                entry["answer"] = answer.Json?.DeepClone();
                var checks = new JsonArray();
                entry["assertions"] = checks;
                foreach (var assertion in J.Arr(test, "assertions"))
                {
                    var check = Assertions.Check(J.Str(assertion, "kind"), J.Str(assertion, "value"), answer.Output, answer.OutputTokens, answer.CostUsd);
                    failed |= check.Passed == false;
                    checks.Add(new JsonObject { ["kind"] = check.Kind, ["value"] = check.Value, ["passed"] = check.Passed, ["detail"] = check.Detail });
                    table.AddRow(E(name), E($"{check.Kind} {check.Value}"),
                        check.Passed switch { true => "[green]pass[/]", false => "[red]fail[/]", null => "[grey]not checked[/]" }, E(check.Detail));
                }

                if (checks.Count == 0)
                {
                    table.AddRow(E(name), "(none)", "[green]ran[/]", E($"{answer.OutputTokens} output tokens, {Usd(answer.CostUsd)}"));
                }
            }

            if (settings.Json)
            {
                Environment.WriteRaw(new JsonObject { ["appId"] = settings.AppId, ["passed"] = !failed, ["results"] = results }.ToJsonString(FrontDoorClient.JsonOptions));
            }
            else if (tests.Count > 0)
            {
                Console.Write(table);
                Line(failed ? "[red]some assertions failed[/]" : "[green]every assertion passed[/]");
            }
        }
        finally
        {
            // The key was only for this run; revoking it keeps the app's key list to keys someone holds.
            await client.SendAsync(HttpMethod.Delete, $"admin/apps/{app}/keys/{Esc(keyId)}", cancellationToken: CancellationToken.None);
        }

        return failed ? ExitCodes.Refused : ExitCodes.Ok;
    }

    /// <summary>
    /// The regression tests of the version under test, from <c>GET /admin/apps/{id}/manifest</c>; a front door without that
    /// endpoint answers from the version itself (<c>GET /admin/apps/{id}/versions/{n}</c>).
    /// </summary>
    private static async Task<IReadOnlyList<JsonNode?>> LoadTestsAsync(FrontDoorClient client, TestSettings settings, CancellationToken cancellationToken)
    {
        var app = Esc(settings.AppId);
        var version = settings.Version ?? await NewestUnreleasedAsync(client, settings.AppId, cancellationToken);
        var manifest = await client.SendAsync(HttpMethod.Get, $"admin/apps/{app}/manifest?format=json{(version is { } v ? $"&version={v}" : "")}", cancellationToken: cancellationToken);
        if (manifest.IsSuccess)
        {
            return [.. J.Arr(manifest.Json, "tests")];
        }

        if (manifest.Status is not (HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed))
        {
            throw FrontDoorClient.Refusal(manifest);
        }

        var fallback = version is { } n
            ? (await client.GetAsync($"admin/apps/{app}/versions/{n}", cancellationToken)).Json?["manifest"]
            : (await client.GetAsync($"admin/apps/{app}", cancellationToken)).Json;
        return [.. J.Arr(fallback, "tests")];
    }

    /// <summary>The newest version that is not released (what an unpinned test key reaches); null when every version is released.</summary>
    private static async Task<int?> NewestUnreleasedAsync(FrontDoorClient client, string appId, CancellationToken cancellationToken)
    {
        var response = await client.GetAsync($"admin/apps/{Esc(appId)}", cancellationToken);
        var released = new[] { "published", "superseded", "rolledback", "rolled_back", "rejected" };
        return J.Arr(response.Json, "versions")
            .Where(v => !released.Contains(J.Str(v, "state").ToLowerInvariant()))
            .Select(v => J.Int(v, "version"))
            .Max();
    }
}

/// <summary>Settings of <c>run</c>.</summary>
public sealed class RunSettings : AppSettings
{
    public const string KeyVariable = "MICROAPPS_APP_KEY";

    [CommandOption("--key <APIKEY>")]
    [Description("The app key to run with (env MICROAPPS_APP_KEY): a production key reaches the published version.")]
    public string? Key { get; set; }

    [CommandOption("--input <TEXT>")]
    [Description("The input.")]
    public string? Input { get; set; }

    [CommandOption("--file <FILE>")]
    [Description("Read the input from this file.")]
    public string? File { get; set; }

    public override ValidationResult Validate() =>
        (Input is null) == (File is null) ? ValidationResult.Error("give the input with --input TEXT or --file FILE (one of them)") : ValidationResult.Success();
}

/// <summary><c>run APP --key K --input TEXT</c>: one run of the hosted runtime, as the app's callers make it.</summary>
internal sealed class RunCommand(CliEnvironment environment) : ApiCommand<RunSettings>(environment)
{
    protected override bool NeedsToken => false;

    protected override async Task<int> RunAsync(FrontDoorClient client, RunSettings settings, CancellationToken cancellationToken)
    {
        var key = settings.Key ?? Environment.Variable(RunSettings.KeyVariable)
            ?? throw CliException.Usage($"no app key: pass --key or set {RunSettings.KeyVariable} (issue one with `microapps keys issue {settings.AppId}`)");
        var input = settings.Input;
        if (settings.File is { } file)
        {
            try
            {
                input = await System.IO.File.ReadAllTextAsync(file, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw CliException.Usage($"cannot read {file}: {ex.Message}");
            }
        }

        var answer = await WithStatusAsync(settings, $"running {settings.AppId}…", () => RunAnswer.RunAsync(client, settings.AppId, key, input!, cancellationToken));
        if (settings.Json)
        {
            Environment.WriteRaw(answer.Json?.ToJsonString(FrontDoorClient.JsonOptions) ?? "{}");
            return ExitCodes.Ok;
        }

        Environment.WriteRaw(answer.Output);
        Line($"[grey]run {E(answer.RunId)}: {answer.InputTokens} tokens in, {answer.OutputTokens} out, {E(Usd(answer.CostUsd))}[/]");
        return ExitCodes.Ok;
    }
}
