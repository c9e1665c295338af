using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.Packs;

/// <summary>
/// An app pack (<c>microapps.pack/v1</c>): one version of an app's manifest (tests included), the registry prompts it
/// pins and the catalog prompts and chains it uses, as one JSON document that another cluster can import, with where
/// it came from. <see cref="PackSource.Digest"/> covers <see cref="Manifest"/>, <see cref="Prompts"/> and
/// <see cref="Components"/>; <see cref="Source"/>, <see cref="Canonical"/> and <see cref="Lineage"/> describe provenance
/// and are checked for consistency, not covered.
/// </summary>
/// <param name="Format">Always <see cref="PackFormat.V1"/>.</param>
/// <param name="Source">The app version exported, the digest, and who exported it when.</param>
/// <param name="Canonical">The root of the chain: the app's lineage's canonical source, else the exported version itself.</param>
/// <param name="Manifest">The manifest document as the admin API reads it (camelCase, enums lower-case, references <c>name@version</c>), without lineage.</param>
/// <param name="Prompts">The registry prompt versions the manifest pins, in pin order.</param>
/// <param name="Components">The catalog prompts and chains the manifest's <c>components</c> name, in that order.</param>
/// <param name="Lineage">The exported version's lineage; null for an app created from nothing.</param>
public sealed record AppPack(
    string Format,
    PackSource Source,
    PackCanonical Canonical,
    JsonObject Manifest,
    IReadOnlyList<PackPrompt> Prompts,
    IReadOnlyList<PackComponent> Components,
    AppLineage? Lineage)
{
    /// <summary>The pack as the JSON document the admin API sends and takes (null properties left out).</summary>
    public JsonObject ToJson() => (JsonObject)CanonicalJson.WithoutNulls(JsonSerializer.SerializeToNode(this, PackJson.Options))!;
}

/// <summary>The pack format names.</summary>
public static class PackFormat
{
    /// <summary>The one format this platform writes and reads.</summary>
    public const string V1 = "microapps.pack/v1";
}

/// <summary>Which app version a pack was exported from.</summary>
/// <param name="AppId">The exported app.</param>
/// <param name="Version">The exported version.</param>
/// <param name="Digest"><c>sha256:</c> hex of the canonical JSON of manifest, prompts and components (<see cref="PackDigest"/>).</param>
/// <param name="ExportedAt">When it was exported.</param>
/// <param name="ExportedBy">The admin principal who exported it.</param>
public sealed record PackSource(string AppId, int Version, string Digest, DateTimeOffset ExportedAt, string ExportedBy);

/// <summary>The canonical source of a pack: the app and version at the root of its chain of imports, forks and upgrades.</summary>
public sealed record PackCanonical(string AppId, int Version)
{
    public override string ToString() => $"{AppId}@{Version}";
}

/// <summary>A registry prompt version carried by a pack, so an import into another cluster can recreate it.</summary>
public sealed record PackPrompt(
    string Name,
    int Version,
    string Text,
    string ContentHash,
    string Description,
    string Author,
    DateTimeOffset CreatedAt,
    string? ForkedFrom = null)
{
    public static PackPrompt From(PromptVersionInfo p) => new(p.Name, p.Version, p.Text, p.ContentHash, p.Description, p.Author, p.CreatedAt, p.ForkedFrom);

    public string Reference() => $"{Name}@{Version}";
}

/// <summary>A catalog prompt or chain carried by a pack (templates and connectors come with every platform and are not carried).</summary>
public sealed record PackComponent(
    CatalogKind Kind,
    string Name,
    string Version,
    string Owner,
    string Description,
    IReadOnlyList<string> Tags,
    bool SafeUpgrade,
    IReadOnlyList<ParameterSpec> Parameters,
    string Text,
    IReadOnlyList<ChainStep> Steps)
{
    public static PackComponent From(CatalogEntry e) =>
        new(e.Kind, e.Name, e.Version, e.Owner, e.Description, e.Tags, e.SafeUpgrade, e.Parameters, e.Text, e.Steps);

    public CatalogRef Reference() => new(Name, Version);

    /// <summary>
    /// The catalog entry an import publishes. Not certified: certification is the importing platform's decision, not
    /// something a pack can claim.
    /// </summary>
    public CatalogEntry ToEntry(DateTimeOffset publishedAt, string publishedBy) =>
        new(Kind, Name, Version, Owner, Description, Tags ?? [], Certified: false, SafeUpgrade, Parameters ?? [], Text ?? "", Steps ?? [], publishedAt, publishedBy);

    /// <summary>Whether an existing catalog entry has the body this component carries (what the catalog compares on a repeated publish).</summary>
    public bool SameBodyAs(CatalogEntry e) =>
        e.Kind == Kind && e.Owner == Owner && e.Description == Description && e.Text == (Text ?? "") && e.SafeUpgrade == SafeUpgrade
        && e.Tags.SequenceEqual(Tags ?? []) && e.Steps.SequenceEqual(Steps ?? []) && e.Parameters.SequenceEqual(Parameters ?? []);
}

/// <summary>JSON options of packs: those of the admin API (web defaults, camelCase, enums as lower-case strings).</summary>
public static class PackJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

/// <summary>The digest of a pack's content.</summary>
public static class PackDigest
{
    /// <summary>
    /// <c>sha256:</c> hex of the canonical JSON (<see cref="CanonicalJson"/>) of <c>{manifest, prompts, components}</c>;
    /// missing prompts or components count as empty lists.
    /// </summary>
    public static string Of(JsonNode? manifest, JsonNode? prompts, JsonNode? components) =>
        CanonicalJson.Sha256(new JsonObject
        {
            ["manifest"] = manifest?.DeepClone(),
            ["prompts"] = prompts?.DeepClone() ?? new JsonArray(),
            ["components"] = components?.DeepClone() ?? new JsonArray(),
        });
}
