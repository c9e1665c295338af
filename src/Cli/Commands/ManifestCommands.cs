using System.ComponentModel;
using System.Net;
using MicroApps.Orleans.Cli.Infrastructure;
using MicroApps.Orleans.Cli.Manifests;
using Spectre.Console;
using Spectre.Console.Cli;
using YamlDotNet.RepresentationModel;

namespace MicroApps.Orleans.Cli.Commands;

/// <summary>Settings of <c>new</c>.</summary>
public sealed class NewSettings : GlobalSettings
{
    [CommandOption("--template <NAME>")]
    [Description("The catalog template, e.g. summarizer, chat-assistant, approvals-bot (or name@version).")]
    public string Template { get; set; } = "";

    [CommandOption("--app-id <ID>")]
    [Description("The new app's id: 3–40 lower-case letters, digits and '-'.")]
    public string AppId { get; set; } = "";

    [CommandOption("--name <NAME>")]
    [Description("What people call the app (default: its id).")]
    public string? Name { get; set; }

    [CommandOption("--owner <OWNER>")]
    [Description("Who answers for the app (default: the principal that pushes it).")]
    public string? Owner { get; set; }

    [CommandOption("--team <TEAM>")]
    [Description("The team that pays for the app (else the manifest marks it REQUIRED).")]
    public string? Team { get; set; }

    [CommandOption("--out <FILE>")]
    [Description("Where to write the manifest (default: APP-ID.yaml; '-' for standard output).")]
    public string? Out { get; set; }

    [CommandOption("--force")]
    [Description("Overwrite the file when it exists.")]
    public bool Force { get; set; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Template) ? ValidationResult.Error("--template is required, e.g. --template summarizer")
        : string.IsNullOrWhiteSpace(AppId) ? ValidationResult.Error("--app-id is required, e.g. --app-id meeting-notes")
        : ValidationResult.Success();
}

/// <summary><c>new</c>: a commented manifest skeleton from a catalog template.</summary>
internal sealed class NewCommand(CliEnvironment environment) : ApiCommand<NewSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, NewSettings settings, CancellationToken cancellationToken)
    {
        var template = settings.Template.Trim();
        var at = template.IndexOf('@', StringComparison.Ordinal);
        var path = at < 0
            ? $"admin/catalog/template/{Esc(template)}"
            : $"admin/catalog/template/{Esc(template[..at])}/{Esc(template[(at + 1)..])}";
        var response = await client.SendAsync(HttpMethod.Get, path, cancellationToken: cancellationToken);
        // The catalog's own 404 names what is missing; a front door without the catalog endpoint answers a bare 404.
        if (response.Status == HttpStatusCode.NotFound && J.Str(response.Json, "detail").Length > 0)
        {
            throw CliException.Refused($"the catalog has no template '{template}' (see `microapps catalog --kind template`)");
        }

        if (!response.IsSuccess)
        {
            throw FrontDoorClient.Refusal(response);
        }

        var entry = ManifestSkeleton.NewestEntry(response.Json)
            ?? throw CliException.Refused($"the catalog's answer for '{template}' holds no template");
        var yaml = ManifestSkeleton.Render(entry, new SkeletonInput(settings.AppId.Trim(), settings.Name, settings.Owner, settings.Team));
        var file = settings.Out ?? settings.AppId.Trim() + ".yaml";
        if (file == "-")
        {
            Environment.WriteRaw(yaml);
            return ExitCodes.Ok;
        }

        if (File.Exists(file) && !settings.Force)
        {
            throw CliException.Refused($"{file} exists; pass --force to overwrite it or --out to write elsewhere");
        }

        await WriteFileAsync(file, yaml, cancellationToken);
        Line($"wrote [bold]{E(file)}[/] from {E(J.Str(entry, "name"))}@{E(J.Str(entry, "version"))}: fill in the values marked REQUIRED, then run [bold]microapps validate {E(file)}[/]");
        return ExitCodes.Ok;
    }

    internal static async Task WriteFileAsync(string file, string text, CancellationToken cancellationToken)
    {
        try
        {
            await File.WriteAllTextAsync(file, text, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"cannot write {file}: {ex.Message}");
        }
    }
}

/// <summary>Settings of a command that reads a manifest file.</summary>
public sealed class ManifestFileSettings : GlobalSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("The manifest (YAML or JSON).")]
    public string File { get; set; } = "";
}

/// <summary>Reading a manifest file and telling YAML from JSON.</summary>
internal static class ManifestFile
{
    public static async Task<(string Text, HttpContent Content, bool IsJson)> ReadAsync(string file, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(file, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"cannot read {file}: {ex.Message}");
        }

        var isJson = file.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || text.TrimStart().StartsWith('{');
        return (text, isJson ? new StringContent(text, System.Text.Encoding.UTF8, "application/json") : FrontDoorClient.Yaml(text), isJson);
    }

    /// <summary>The manifest's <c>appId</c>, read locally (YAML is a superset of JSON); null when it has none or does not parse.</summary>
    public static YamlMappingNode? Root(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.FirstOrDefault()?.RootNode as YamlMappingNode;
        }
        catch (YamlDotNet.Core.YamlException)
        {
            return null;
        }
    }

    public static string? AppId(YamlMappingNode? root) =>
        root?.Children.FirstOrDefault(c => c.Key is YamlScalarNode { Value: "appId" }).Value is YamlScalarNode { Value: { Length: > 0 } id } ? id : null;

    /// <summary>The manifest without the fields only a create takes (a version belongs to the app and is always a draft).</summary>
    public static string WithoutCreateOnlyFields(YamlMappingNode root)
    {
        foreach (var field in new[] { "budget", "initialState" })
        {
            var key = root.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: var v } && v == field);
            if (key is not null)
            {
                root.Children.Remove(key);
            }
        }

        var stream = new YamlStream(new YamlDocument(root));
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }
}

/// <summary><c>validate FILE</c>: the front door's validation of a manifest, one line per error.</summary>
internal sealed class ValidateCommand(CliEnvironment environment) : ApiCommand<ManifestFileSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, ManifestFileSettings settings, CancellationToken cancellationToken)
    {
        var (_, content, _) = await ManifestFile.ReadAsync(settings.File, cancellationToken);
        var response = await client.SendAsync(HttpMethod.Post, "admin/manifests/validate", content, cancellationToken: cancellationToken);
        if (response.IsSuccess)
        {
            if (!PrintedJson(settings, response))
            {
                Line("[green]valid[/]");
            }

            return ExitCodes.Ok;
        }

        if (response.Status == HttpStatusCode.BadRequest && response.Json?["errors"] is not null)
        {
            if (!PrintedJson(settings, response))
            {
                foreach (var line in FrontDoorClient.ProblemLines(response))
                {
                    Plain(line);
                }
            }

            return ExitCodes.Refused;
        }

        throw FrontDoorClient.Refusal(response);
    }
}

/// <summary><c>push FILE</c>: creates the app as a draft, or adds a draft version when the app exists.</summary>
internal sealed class PushCommand(CliEnvironment environment) : ApiCommand<ManifestFileSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, ManifestFileSettings settings, CancellationToken cancellationToken)
    {
        var (text, content, isJson) = await ManifestFile.ReadAsync(settings.File, cancellationToken);
        var created = await client.SendAsync(HttpMethod.Post, "admin/apps", content, cancellationToken: cancellationToken);
        if (created.IsSuccess)
        {
            if (!PrintedJson(settings, created))
            {
                var appId = J.Str(created.Json, "appId");
                Line(created.Status == HttpStatusCode.Created
                    ? $"created [bold]{E(appId)}[/]: version {E(J.Int(created.Json, "version")?.ToString() ?? "1")} is a {E(J.Str(created.Json, "state") is { Length: > 0 } s ? s : "draft")}; next: [bold]microapps test {E(appId)}[/], then [bold]microapps submit {E(appId)}[/]"
                    : $"{E(appId)} already has this manifest: nothing changed");
            }

            return ExitCodes.Ok;
        }

        if (created.Status != HttpStatusCode.Conflict)
        {
            throw FrontDoorClient.Refusal(created);
        }

        // The app exists with another manifest: this one becomes its next draft version.
        var root = ManifestFile.Root(text);
        var id = ManifestFile.AppId(root) ?? throw FrontDoorClient.Refusal(created);
        HttpContent version = isJson
            ? new StringContent(RemoveCreateOnlyJson(text), System.Text.Encoding.UTF8, "application/json")
            : FrontDoorClient.Yaml(ManifestFile.WithoutCreateOnlyFields(root!));
        var added = await client.CallAsync(HttpMethod.Post, $"admin/apps/{Esc(id)}/versions", version, cancellationToken: cancellationToken);
        if (!PrintedJson(settings, added))
        {
            Line($"added version [bold]{E(J.Int(added.Json, "version")?.ToString())}[/] of {E(id)} ({E(J.Str(added.Json, "state"))}); next: [bold]microapps test {E(id)}[/], then [bold]microapps submit {E(id)}[/]");
        }

        return ExitCodes.Ok;
    }

    private static string RemoveCreateOnlyJson(string text)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(text) as System.Text.Json.Nodes.JsonObject
            ?? throw CliException.Usage("the manifest must be a JSON object");
        node.Remove("budget");
        node.Remove("initialState");
        return node.ToJsonString();
    }
}
