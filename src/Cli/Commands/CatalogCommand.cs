using System.ComponentModel;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MicroApps.Orleans.Cli.Commands;

/// <summary>Settings of <c>catalog [search TEXT]</c>.</summary>
public sealed class CatalogSettings : GlobalSettings
{
    [CommandArgument(0, "[WORDS]")]
    [Description("`search TEXT`: entries whose name, description or tags match TEXT.")]
    public string[] Words { get; set; } = [];

    [CommandOption("--tag <TAG>")]
    [Description("Only entries with this tag.")]
    public string? Tag { get; set; }

    [CommandOption("--kind <KIND>")]
    [Description("Only templates, connectors, prompts or chains (template, connector, prompt, chain).")]
    public string? Kind { get; set; }

    /// <summary>The search text: the words after <c>search</c> (or all of them).</summary>
    public string? SearchText => (Words.Length > 0 && Words[0] == "search" ? Words[1..] : Words) is { Length: > 0 } w ? string.Join(' ', w) : null;
}

/// <summary><c>catalog</c>: vetted templates, connectors, shared prompts and chains, with how much they are used.</summary>
internal sealed class CatalogCommand(CliEnvironment environment) : ApiCommand<CatalogSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, CatalogSettings settings, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (settings.SearchText is { } text)
        {
            query.Add("search=" + Esc(text));
        }

        if (settings.Tag is { } tag)
        {
            query.Add("tag=" + Esc(tag));
        }

        if (settings.Kind is { } kind)
        {
            query.Add("kind=" + Esc(kind));
        }

        var response = await client.GetAsync("admin/catalog" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), cancellationToken);
        if (PrintedJson(settings, response))
        {
            return ExitCodes.Ok;
        }

        var items = response.Json switch
        {
            JsonArray a => a,
            JsonObject o => o["entries"] as JsonArray ?? o["items"] as JsonArray ?? [],
            _ => [],
        };
        if (items.Count == 0)
        {
            Plain("nothing in the catalog matches");
            return ExitCodes.Ok;
        }

        var table = new Table().AddColumns("kind", "entry", "owner", "certified", "tags", "used by", "description");
        foreach (var item in items)
        {
            var entry = item?["entry"] ?? item;
            var usage = item?["usage"] ?? entry?["usage"];
            table.AddRow(
                E(J.Str(entry, "kind")), E($"{J.Str(entry, "name")}@{J.Str(entry, "version")}"), E(J.Str(entry, "owner")), J.Bool(entry, "certified") ? "yes" : "no",
                E(string.Join(", ", J.Arr(entry, "tags").Select(FrontDoorClient.Text))),
                E(usage is null ? "-" : $"{J.Long(usage, "apps")} apps, {J.Long(usage, "calls")} calls"), E(J.Str(entry, "description")));
        }

        Console.Write(table);
        return ExitCodes.Ok;
    }
}
