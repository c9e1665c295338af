using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MicroApps.Orleans.Cli.Commands;

/// <summary>Settings of <c>pack export</c>.</summary>
public sealed class PackExportSettings : AppSettings
{
    [CommandOption("--version <N>")]
    [Description("The version to export (default: the published one, else the newest).")]
    public int? Version { get; set; }

    [CommandOption("--out <FILE>")]
    [Description("Where to write the pack (default APP.pack.json; '-' for standard output).")]
    public string? Out { get; set; }

    [CommandOption("--force")]
    [Description("Overwrite the file when it exists.")]
    public bool Force { get; set; }
}

/// <summary><c>pack export APP</c>: the app's manifest, prompts and tests as one versioned bundle.</summary>
internal sealed class PackExportCommand(CliEnvironment environment) : ApiCommand<PackExportSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, PackExportSettings settings, CancellationToken cancellationToken)
    {
        var response = await client.GetAsync($"admin/apps/{Esc(settings.AppId)}/pack{(settings.Version is { } v ? $"?version={v}" : "")}", cancellationToken);
        var text = response.Json?.ToJsonString(FrontDoorClient.JsonOptions) ?? response.Text;
        var file = settings.Out ?? settings.AppId + ".pack.json";
        if (file == "-" )
        {
            Environment.WriteRaw(text);
            return ExitCodes.Ok;
        }

        if (File.Exists(file) && !settings.Force)
        {
            throw CliException.Refused($"{file} exists; pass --force to overwrite it or --out to write elsewhere");
        }

        await NewCommand.WriteFileAsync(file, text + "\n", cancellationToken);
        if (settings.Json)
        {
            Environment.WriteRaw(JsonSerializer.Serialize(new { file, format = J.Str(response.Json, "format") }, FrontDoorClient.JsonOptions));
        }
        else
        {
            Line($"wrote [bold]{E(file)}[/] ({E(J.Str(response.Json, "format") is { Length: > 0 } f ? f : "pack")} of {E(settings.AppId)}); import it elsewhere with [bold]microapps pack import {E(file)}[/]");
        }

        return ExitCodes.Ok;
    }
}

/// <summary>Settings of <c>pack import</c>.</summary>
public sealed class PackImportSettings : GlobalSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("The pack file (from `pack export`).")]
    public string File { get; set; } = "";

    [CommandOption("--app-id <ID>")]
    [Description("The new app's id (default: the pack's).")]
    public string? AppId { get; set; }

    [CommandOption("--owner <OWNER>")]
    [Description("Who answers for the new app (default: you).")]
    public string? Owner { get; set; }
}

/// <summary><c>pack import FILE</c>: a new draft app from a pack, its lineage pointing at the pack's canonical source.</summary>
internal sealed class PackImportCommand(CliEnvironment environment) : ApiCommand<PackImportSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, PackImportSettings settings, CancellationToken cancellationToken)
    {
        JsonNode? pack;
        try
        {
            pack = JsonNode.Parse(await File.ReadAllTextAsync(settings.File, cancellationToken));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"cannot read {settings.File}: {ex.Message}");
        }
        catch (JsonException ex)
        {
            throw CliException.Usage($"{settings.File} is not a pack (not JSON: {ex.Message})");
        }

        var response = await client.PostJsonAsync("admin/packs/import", new JsonObject
        {
            ["pack"] = pack,
            ["appId"] = settings.AppId,
            ["owner"] = settings.Owner,
        }, cancellationToken: cancellationToken);
        if (!PrintedJson(settings, response))
        {
            Line($"imported as [bold]{E(J.Str(response.Json, "appId"))}[/] (a draft){Lineage(response.Json)}");
        }

        return ExitCodes.Ok;
    }

    internal static string Lineage(JsonNode? app)
    {
        // Packs answer {lineage: {canonical: {appId, version}, steps}}; an app view carries {canonicalAppId, canonicalVersion}.
        var lineage = app?["lineage"];
        var canonical = lineage?["canonical"];
        var source = canonical is null ? J.Str(lineage, "canonicalAppId") : J.Str(canonical, "appId");
        var version = canonical is null ? J.Int(lineage, "canonicalVersion") : J.Int(canonical, "version");
        return source.Length > 0 ? Markup.Escape($"; canonical source {source} version {version}") : "";
    }
}

/// <summary>Settings of <c>pack fork</c>.</summary>
public sealed class PackForkSettings : AppSettings
{
    [CommandOption("--app-id <ID>")]
    [Description("The fork's app id (required).")]
    public string NewAppId { get; set; } = "";

    [CommandOption("--owner <OWNER>")]
    [Description("Who answers for the fork (default: you).")]
    public string? Owner { get; set; }

    [CommandOption("--name <NAME>")]
    [Description("The fork's name.")]
    public string? Name { get; set; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(NewAppId) ? ValidationResult.Error("--app-id is required: the fork's app id") : ValidationResult.Success();
}

/// <summary><c>pack fork APP --app-id NEW</c>: a new draft app copied from APP, lineage kept.</summary>
internal sealed class PackForkCommand(CliEnvironment environment) : ApiCommand<PackForkSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, PackForkSettings settings, CancellationToken cancellationToken)
    {
        var response = await client.PostJsonAsync($"admin/apps/{Esc(settings.AppId)}/fork", new JsonObject
        {
            ["appId"] = settings.NewAppId,
            ["owner"] = settings.Owner,
            ["name"] = settings.Name,
        }, cancellationToken: cancellationToken);
        if (!PrintedJson(settings, response))
        {
            Line($"forked {E(settings.AppId)} into [bold]{E(J.Str(response.Json, "appId") is { Length: > 0 } id ? id : settings.NewAppId)}[/] (a draft){PackImportCommand.Lineage(response.Json)}");
        }

        return ExitCodes.Ok;
    }
}
