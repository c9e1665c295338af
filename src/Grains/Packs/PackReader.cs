using System.Text.Json;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.Packs;

/// <summary>A pack as read, or what is wrong with it (fields named from <c>pack.</c>, as the import body spells them).</summary>
public sealed record PackReadResult(AppPack? Pack, IReadOnlyList<(string Field, string Message)> Errors)
{
    public bool IsValid => Pack is not null && Errors.Count == 0;
}

/// <summary>
/// Reads a pack document and checks it before anything is imported: the format, its digest against its content
/// (tampering is refused naming <c>pack.source.digest</c>), prompt hashes, that prompts and components are exactly
/// what the manifest pins and uses, and that the canonical source agrees with the lineage. The manifest's own rules
/// are checked by the admin API, as for any manifest.
/// </summary>
public static class PackReader
{
    public static PackReadResult Read(JsonObject? document, string prefix = "pack")
    {
        var errors = new List<(string, string)>();
        if (document is null)
        {
            errors.Add((prefix, $"Required: the pack document ({PackFormat.V1}) as exported by GET /admin/apps/{{appId}}/pack."));
            return new(null, errors);
        }

        var format = document["format"] is JsonValue f && f.TryGetValue<string>(out var text) ? text : null;
        if (format != PackFormat.V1)
        {
            errors.Add(($"{prefix}.format", $"Must be '{PackFormat.V1}' (got '{format}')."));
            return new(null, errors);
        }

        if (document["manifest"] is not JsonObject)
        {
            errors.Add(($"{prefix}.manifest", "Required: the manifest document (a JSON object)."));
            return new(null, errors);
        }

        AppPack? pack;
        try
        {
            pack = document.Deserialize<AppPack>(PackJson.Options);
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : ex.Path.StartsWith("$.", StringComparison.Ordinal) ? "." + ex.Path[2..] : ex.Path.TrimStart('$');
            errors.Add(($"{prefix}{path}", $"Has the wrong type or is malformed there: {ex.Message}"));
            return new(null, errors);
        }

        if (pack?.Source is not { } source)
        {
            errors.Add(($"{prefix}.source", "Required: {appId, version, digest, exportedAt, exportedBy}."));
            return new(null, errors);
        }

        if (!ApiKeys.IsValidAppId(source.AppId))
        {
            errors.Add(($"{prefix}.source.appId", "Must be the exported app's id."));
        }

        if (source.Version < 1)
        {
            errors.Add(($"{prefix}.source.version", "Must be the exported version (1 or more)."));
        }

        string actual;
        try
        {
            actual = PackDigest.Of(document["manifest"], document["prompts"], document["components"]);
        }
        catch (FormatException ex)
        {
            errors.Add(($"{prefix}.manifest", ex.Message));
            return new(null, errors);
        }

        if (!string.Equals(source.Digest, actual, StringComparison.Ordinal))
        {
            errors.Add(($"{prefix}.source.digest",
                $"The pack's manifest, prompts and components do not match its digest '{source.Digest}' (their digest is '{actual}'): the pack was changed after it was exported."));
            return new(null, errors);
        }

        if (pack.Canonical is not { } canonical || !ApiKeys.IsValidAppId(canonical.AppId) || canonical.Version < 1)
        {
            errors.Add(($"{prefix}.canonical", "Required: {appId, version} of the canonical source."));
        }
        else
        {
            var expected = pack.Lineage is { } lineage
                ? new PackCanonical(lineage.CanonicalAppId, lineage.CanonicalVersion)
                : new PackCanonical(source.AppId, source.Version);
            if (canonical != expected)
            {
                errors.Add(($"{prefix}.canonical", $"'{canonical}' does not agree with the pack's lineage and source, which give '{expected}'."));
            }
        }

        if (pack.Manifest.ContainsKey("lineage"))
        {
            errors.Add(($"{prefix}.manifest.lineage", $"Not part of the manifest document: where an app came from is {prefix}.lineage, and an import records it."));
        }

        CheckPrompts(pack, prefix, errors);
        CheckComponents(pack, prefix, errors);
        return errors.Count == 0
            ? new(pack with { Prompts = pack.Prompts ?? [], Components = pack.Components ?? [] }, errors)
            : new(null, errors);
    }

    private static void CheckPrompts(AppPack pack, string prefix, List<(string, string)> errors)
    {
        var prompts = pack.Prompts ?? [];
        for (var i = 0; i < prompts.Count; i++)
        {
            var p = prompts[i];
            var field = $"{prefix}.prompts[{i}]";
            if (p is null)
            {
                errors.Add((field, "Must be a prompt version {name, version, text, contentHash, …}."));
                continue;
            }

            if (!PromptNames.IsValid(p.Name))
            {
                errors.Add(($"{field}.name", PromptNames.NameRule));
            }

            if (p.Version < 1)
            {
                errors.Add(($"{field}.version", "Must be 1 or more."));
            }

            if (string.IsNullOrWhiteSpace(p.Text) || p.Text.Length > PromptNames.MaxTextLength)
            {
                errors.Add(($"{field}.text", $"Required, at most {PromptNames.MaxTextLength} characters."));
            }
            else if (!string.Equals(p.ContentHash, PromptNames.Hash(p.Text), StringComparison.Ordinal))
            {
                errors.Add(($"{field}.contentHash", $"Is not the SHA-256 of the prompt's text ({PromptNames.Hash(p.Text)})."));
            }
        }

        var pins = Pins(pack.Manifest);
        var carried = prompts.Where(p => p is not null).Select(p => p.Reference()).ToList();
        foreach (var pin in pins.Where(pin => !carried.Contains(pin, StringComparer.Ordinal)))
        {
            errors.Add(($"{prefix}.prompts", $"The manifest pins prompt {pin} but the pack does not carry it."));
        }

        for (var i = 0; i < carried.Count; i++)
        {
            if (!pins.Contains(carried[i], StringComparer.Ordinal))
            {
                errors.Add(($"{prefix}.prompts[{i}]", $"Prompt {carried[i]} is not pinned by the manifest."));
            }
            else if (carried.IndexOf(carried[i]) != i)
            {
                errors.Add(($"{prefix}.prompts[{i}]", $"Prompt {carried[i]} is carried more than once."));
            }
        }
    }

    private static void CheckComponents(AppPack pack, string prefix, List<(string, string)> errors)
    {
        var components = pack.Components ?? [];
        for (var i = 0; i < components.Count; i++)
        {
            var c = components[i];
            var field = $"{prefix}.components[{i}]";
            if (c is null)
            {
                errors.Add((field, "Must be a catalog prompt or chain {kind, name, version, …}."));
                continue;
            }

            if (c.Kind is not (CatalogKind.Prompt or CatalogKind.Chain))
            {
                errors.Add(($"{field}.kind", "Must be 'prompt' or 'chain': templates and connectors come with the platform."));
            }

            if (!CatalogRef.TryParse($"{c.Name}@{c.Version}", out _))
            {
                errors.Add(($"{field}.version", $"'{c.Name}@{c.Version}' is not a catalog reference ({CatalogRef.Format})."));
            }
        }

        var used = Components(pack.Manifest);
        var carried = components.Where(c => c is not null).Select(c => $"{c.Name}@{c.Version}").ToList();
        foreach (var reference in used.Where(r => !carried.Contains(r, StringComparer.Ordinal)))
        {
            errors.Add(($"{prefix}.components", $"The manifest uses component {reference} but the pack does not carry it."));
        }

        for (var i = 0; i < carried.Count; i++)
        {
            if (!used.Contains(carried[i], StringComparer.Ordinal))
            {
                errors.Add(($"{prefix}.components[{i}]", $"Component {carried[i]} is not used by the manifest."));
            }
            else if (carried.IndexOf(carried[i]) != i)
            {
                errors.Add(($"{prefix}.components[{i}]", $"Component {carried[i]} is carried more than once."));
            }
        }
    }

    /// <summary>The manifest document's prompt pins as <c>name@version</c> (malformed ones are the manifest's rules' business).</summary>
    private static List<string> Pins(JsonObject manifest) =>
        manifest["prompts"] is JsonArray pins
            ? [.. pins.OfType<JsonObject>().Select(p => $"{Text(p["name"])}@{Text(p["version"])}")]
            : [];

    private static List<string> Components(JsonObject manifest) =>
        manifest["components"] is JsonArray refs ? [.. refs.Select(Text).Where(r => r.Length > 0)] : [];

    private static string Text(JsonNode? node) => node is JsonValue value
        ? value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>().Trim(),
            JsonValueKind.Number => value.ToJsonString(),
            _ => "",
        }
        : "";
}
