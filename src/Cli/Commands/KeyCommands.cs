using System.ComponentModel;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MicroApps.Orleans.Cli.Commands;

/// <summary><c>keys list APP</c>: the app's keys (never their secrets).</summary>
internal sealed class KeysListCommand(CliEnvironment environment) : ApiCommand<AppSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, AppSettings settings, CancellationToken cancellationToken)
    {
        var response = await client.GetAsync($"admin/apps/{Esc(settings.AppId)}", cancellationToken);
        if (settings.Json)
        {
            Environment.WriteRaw((response.Json?["keys"] ?? new JsonArray()).ToJsonString(FrontDoorClient.JsonOptions));
            return ExitCodes.Ok;
        }

        WriteKeys(Console, J.Arr(response.Json, "keys"));
        return ExitCodes.Ok;
    }

    public static void WriteKeys(IAnsiConsole console, JsonArray keys)
    {
        if (keys.Count == 0)
        {
            console.WriteLine("no keys: issue one with `microapps keys issue APP`");
            return;
        }

        var table = new Table().Title("keys").AddColumns("key id", "label", "kind", "holder", "pinned", "created", "revoked");
        foreach (var key in keys)
        {
            table.AddRow(
                Markup.Escape(J.Str(key, "keyId")), Markup.Escape(J.Str(key, "label")), Markup.Escape(J.Str(key, "kind")), Markup.Escape(J.Str(key, "holder")),
                Markup.Escape(J.Int(key, "pinnedVersion")?.ToString() ?? "-"), Markup.Escape(J.Time(key, "createdAt")),
                Markup.Escape(J.Str(key, "revokedAt").Length == 0 ? "-" : J.Time(key, "revokedAt")));
        }

        console.Write(table);
    }
}

/// <summary>Settings of <c>keys issue</c>.</summary>
public sealed class KeysIssueSettings : AppSettings
{
    [CommandOption("--label <LABEL>")]
    [Description("What the key is for (at most 100 characters).")]
    public string? Label { get; set; }

    [CommandOption("--test")]
    [Description("Issue a test key held by you: it reaches the newest unreleased version (the draft) under the test quotas.")]
    public bool Test { get; set; }

    [CommandOption("--version <N>")]
    [Description("With --test: pin the test key to this version.")]
    public int? Version { get; set; }

    public override ValidationResult Validate() =>
        Version is not null && !Test ? ValidationResult.Error("--version pins a test key: add --test")
        : Version is < 1 ? ValidationResult.Error("--version must be 1 or more")
        : ValidationResult.Success();
}

/// <summary><c>keys issue APP</c>: a production key (or with <c>--test</c> a test key); the key is shown once.</summary>
internal sealed class KeysIssueCommand(CliEnvironment environment) : ApiCommand<KeysIssueSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, KeysIssueSettings settings, CancellationToken cancellationToken)
    {
        var app = Esc(settings.AppId);
        var response = settings.Test
            ? await client.PostJsonAsync($"admin/apps/{app}/test-keys", new { label = settings.Label, version = settings.Version }, cancellationToken: cancellationToken)
            : await client.PostJsonAsync($"admin/apps/{app}/keys", new { label = settings.Label }, cancellationToken: cancellationToken);
        if (PrintedJson(settings, response))
        {
            return ExitCodes.Ok;
        }

        Line($"issued {(settings.Test ? "test " : "")}key [bold]{E(J.Str(response.Json, "keyId"))}[/] for {E(settings.AppId)}; it is shown once, keep it now:");
        Environment.WriteRaw(J.Str(response.Json, "apiKey"));
        return ExitCodes.Ok;
    }
}

/// <summary>Settings of <c>keys revoke</c>.</summary>
public sealed class KeysRevokeSettings : AppSettings
{
    [CommandArgument(1, "<KEYID>")]
    [Description("The key id (from `keys list`).")]
    public string KeyId { get; set; } = "";
}

/// <summary><c>keys revoke APP KEYID</c>: the key is refused from the next request on.</summary>
internal sealed class KeysRevokeCommand(CliEnvironment environment) : ApiCommand<KeysRevokeSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, KeysRevokeSettings settings, CancellationToken cancellationToken)
    {
        await client.CallAsync(HttpMethod.Delete, $"admin/apps/{Esc(settings.AppId)}/keys/{Esc(settings.KeyId)}", cancellationToken: cancellationToken);
        if (settings.Json)
        {
            Environment.WriteRaw(System.Text.Json.JsonSerializer.Serialize(new { appId = settings.AppId, keyId = settings.KeyId, revoked = true }, FrontDoorClient.JsonOptions));
            return ExitCodes.Ok;
        }

        Plain($"revoked key {settings.KeyId} of {settings.AppId}");
        return ExitCodes.Ok;
    }
}
