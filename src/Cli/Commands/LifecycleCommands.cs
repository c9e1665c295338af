using System.ComponentModel;
using System.Net;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MicroApps.Orleans.Cli.Commands;

/// <summary>Settings of <c>submit</c>.</summary>
public sealed class SubmitSettings : AppSettings
{
    [CommandOption("--version <N>")]
    [Description("The version to submit (default: the newest draft).")]
    public int? Version { get; set; }
}

/// <summary><c>submit APP</c>: runs the promotion gates on a draft and shows their results.</summary>
internal sealed class SubmitCommand(CliEnvironment environment) : ApiCommand<SubmitSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, SubmitSettings settings, CancellationToken cancellationToken)
    {
        var app = Esc(settings.AppId);
        var version = settings.Version ?? await NewestDraftAsync(client, settings.AppId, cancellationToken);

        // The gates (regression tests included) run inside the submit request; it answers when they are done.
        var response = await WithStatusAsync(settings, $"running the promotion gates of {settings.AppId} version {version}…",
            () => client.SendAsync(HttpMethod.Post, $"admin/apps/{app}/versions/{version}/submit", FrontDoorClient.Json(new { }), cancellationToken: cancellationToken));
        if (response.IsSuccess)
        {
            if (PrintedJson(settings, response))
            {
                return ExitCodes.Ok;
            }

            WriteGates(response.Json);
            var outcome = J.Str(response.Json, "outcome");
            Line(outcome.Replace("_", "", StringComparison.Ordinal).Equals("autoapproved", StringComparison.OrdinalIgnoreCase)
                ? $"version {version} of {E(settings.AppId)} passed every gate and was [green]approved automatically[/]; next: [bold]microapps promote {E(settings.AppId)} {version}[/]"
                : $"version {version} of {E(settings.AppId)} passed every gate and [yellow]waits for an approver[/] ([bold]microapps approve {E(settings.AppId)} {version} --comment …[/])");
            return ExitCodes.Ok;
        }

        if (response.Status == HttpStatusCode.UnprocessableEntity && response.Json is JsonObject blocked && !settings.Json)
        {
            WriteGates(blocked);
        }

        if (settings.Json)
        {
            PrintedJson(settings, response);
            return ExitCodes.Refused;
        }

        throw FrontDoorClient.Refusal(response);
    }

    private void WriteGates(JsonNode? answer)
    {
        var gates = J.Arr(answer, "gates");
        if (gates.Count > 0)
        {
            var table = new Table().Title("promotion gates").AddColumns("gate", "result", "detail");
            foreach (var gate in gates)
            {
                table.AddRow(E(J.Str(gate, "gate")), J.Bool(gate, "passed") ? "[green]pass[/]" : "[red]fail[/]", E(J.Str(gate, "detail")));
            }

            Console.Write(table);
        }

        var tests = J.Arr(answer, "tests");
        if (tests.Count > 0)
        {
            var table = new Table().Title("regression tests").AddColumns("test", "result", "model", "tokens", "cost", "detail");
            foreach (var test in tests)
            {
                var failed = J.Arr(test, "assertions").Where(a => a?["passed"] is JsonValue p && p.TryGetValue<bool>(out var ok) && !ok)
                    .Select(a => $"{J.Str(a, "kind")} {J.Str(a, "value")}: {J.Str(a, "detail")}".Trim());
                table.AddRow(
                    E(J.Str(test, "name")), J.Bool(test, "passed") ? "[green]pass[/]" : "[red]fail[/]", E(J.Str(test, "model")),
                    E($"{J.Long(test, "inputTokens")} in / {J.Long(test, "outputTokens")} out"), E(Usd(J.Dec(test, "costUsd"))),
                    E(string.Join("; ", [.. J.Str(test, "error") is { Length: > 0 } e ? [e] : Array.Empty<string>(), .. failed])));
            }

            Console.Write(table);
        }
    }

    /// <summary>The newest version in draft; a refusal naming the versions when there is none.</summary>
    internal static async Task<int> NewestDraftAsync(FrontDoorClient client, string appId, CancellationToken cancellationToken)
    {
        var response = await client.GetAsync($"admin/apps/{Esc(appId)}", cancellationToken);
        var versions = J.Arr(response.Json, "versions");
        var draft = versions.Where(v => J.Str(v, "state").Equals("draft", StringComparison.OrdinalIgnoreCase)).Select(v => J.Int(v, "version") ?? 0).DefaultIfEmpty(0).Max();
        return draft > 0
            ? draft
            : throw CliException.Refused($"{appId} has no draft version to submit ({string.Join(", ", versions.Select(v => $"v{J.Int(v, "version")} {J.Str(v, "state")}"))}); push a new version first");
    }
}

/// <summary>Settings of <c>approve</c> and <c>reject</c>.</summary>
public sealed class DecisionSettings : AppSettings
{
    [CommandArgument(1, "<VERSION>")]
    [Description("The submitted version.")]
    public int Version { get; set; }

    [CommandOption("--comment <TEXT>")]
    [Description("Why (required; at most 1000 characters).")]
    public string? Comment { get; set; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Comment) ? ValidationResult.Error("--comment is required: say why you decide so")
        : Version < 1 ? ValidationResult.Error("VERSION must be 1 or more")
        : ValidationResult.Success();
}

/// <summary><c>approve APP VERSION --comment</c> and <c>reject …</c>: an approver's decision on a submitted version.</summary>
internal abstract class DecisionCommand(CliEnvironment environment, bool approve) : ApiCommand<DecisionSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, DecisionSettings settings, CancellationToken cancellationToken)
    {
        var response = await client.PostJsonAsync(
            $"admin/apps/{Esc(settings.AppId)}/versions/{settings.Version}/{(approve ? "approve" : "reject")}", new { comment = settings.Comment }, cancellationToken: cancellationToken);
        if (!PrintedJson(settings, response))
        {
            Line($"version {settings.Version} of {E(settings.AppId)} is [bold]{E(J.Str(response.Json, "state"))}[/]"
                + (approve ? $"; next: [bold]microapps promote {E(settings.AppId)} {settings.Version}[/]" : ""));
        }

        return ExitCodes.Ok;
    }
}

internal sealed class ApproveCommand(CliEnvironment environment) : DecisionCommand(environment, approve: true);

internal sealed class RejectCommand(CliEnvironment environment) : DecisionCommand(environment, approve: false);

/// <summary>Settings of <c>promote</c>.</summary>
public sealed class PromoteSettings : AppSettings
{
    [CommandArgument(1, "<VERSION>")]
    [Description("The approved (or canary) version to publish.")]
    public int Version { get; set; }
}

/// <summary><c>promote APP VERSION</c>: publishes an approved version; production keys reach it from the next request.</summary>
internal sealed class PromoteCommand(CliEnvironment environment) : ApiCommand<PromoteSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, PromoteSettings settings, CancellationToken cancellationToken)
    {
        var response = await client.PostJsonAsync($"admin/apps/{Esc(settings.AppId)}/versions/{settings.Version}/promote", new { }, cancellationToken: cancellationToken);
        if (!PrintedJson(settings, response))
        {
            Line($"version {J.Int(response.Json?["release"], "publishedVersion")?.ToString() ?? settings.Version.ToString()} of {E(settings.AppId)} is [green]published[/]; production keys reach it from the next request");
        }

        return ExitCodes.Ok;
    }
}
