using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace MicroApps.Orleans.Catalog;

/// <summary>
/// A reference to a catalog entry, written <c>name@version</c> with a semantic version (<c>summarizer@1.0.0</c>).
/// Apps reference templates and components this way.
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.CatalogRef")]
[JsonConverter(typeof(CatalogRefJsonConverter))]
public sealed partial record CatalogRef(
    [property: Id(0)] string Name,
    [property: Id(1)] string Version)
{
    public override string ToString() => $"{Name}@{Version}";

    /// <summary>Parses <c>name@major.minor.patch</c>; names are lower-case letters, digits and '-' (up to 64).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out CatalogRef? reference)
    {
        reference = null;
        var match = text is null ? null : RefPattern().Match(text.Trim());
        if (match is not { Success: true })
        {
            return false;
        }

        reference = new CatalogRef(match.Groups["name"].Value, match.Groups["version"].Value);
        return true;
    }

    /// <summary>The version as (major, minor, patch); only valid for a parsed reference.</summary>
    public (int Major, int Minor, int Patch) SemVer
    {
        get
        {
            var parts = Version.Split('.');
            return (int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]));
        }
    }

    public const string Format = "name@major.minor.patch, e.g. summarizer@1.0.0";

    [GeneratedRegex(@"^(?<name>[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)@(?<version>(?:0|[1-9][0-9]{0,5})\.(?:0|[1-9][0-9]{0,5})\.(?:0|[1-9][0-9]{0,5}))$")]
    private static partial Regex RefPattern();
}

/// <summary>Writes a <see cref="CatalogRef"/> as its <c>name@version</c> string in JSON, and reads it back (a wrong one is a <see cref="JsonException"/> naming the format).</summary>
public sealed class CatalogRefJsonConverter : JsonConverter<CatalogRef>
{
    public override CatalogRef? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return CatalogRef.TryParse(text, out var reference)
            ? reference
            : throw new JsonException($"'{text}' is not a catalog reference ({CatalogRef.Format})");
    }

    public override void Write(Utf8JsonWriter writer, CatalogRef value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

/// <summary>What a catalog entry is.</summary>
public enum CatalogKind
{
    /// <summary>A runnable app template (chat assistant, summarizer, approvals bot), implemented by the hosted runtime.</summary>
    Template = 0,

    /// <summary>A certified connector (HTTP JSON, Azure Blob files, outgoing webhook), implemented by the platform.</summary>
    Connector = 1,

    /// <summary>A shared prompt: text with <c>{{parameter}}</c> placeholders, used as a system prompt.</summary>
    Prompt = 2,

    /// <summary>A shared chain: prompt steps run one after another on the previous step's output.</summary>
    Chain = 3,
}

/// <summary>The type of a template or connector parameter.</summary>
public enum ParameterKind
{
    /// <summary>Free text (prompt text, instructions); <c>Max</c> bounds its length.</summary>
    Text = 0,

    /// <summary>A model tier name that must be among the app's allowed tiers.</summary>
    Tier = 1,

    /// <summary>A whole number within <c>Min</c>..<c>Max</c>.</summary>
    Integer = 2,

    /// <summary>A number within <c>Min</c>..<c>Max</c>.</summary>
    Number = 3,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean = 4,

    /// <summary>A list of short strings (names, hosts); stored one per line.</summary>
    List = 5,

    /// <summary>A duration: ISO 8601 (<c>PT2H</c>), <c>hh:mm:ss</c>, or a number with a unit (<c>90s</c>, <c>15m</c>, <c>2h</c>, <c>3d</c>).</summary>
    Duration = 6,

    /// <summary>One of <c>Choices</c>.</summary>
    Choice = 7,

    /// <summary>An http(s) URL.</summary>
    Url = 8,
}

/// <summary>One parameter a template or connector takes, as a non-developer fills it in.</summary>
/// <param name="Name">camelCase name used in the manifest's <c>parameters</c>.</param>
/// <param name="Kind">Type of the value.</param>
/// <param name="Required">Whether the manifest must give it (a required parameter has no default).</param>
/// <param name="Default">Value used when the manifest leaves it out (in the stored string form), or null.</param>
/// <param name="Description">What it is for, in words a non-developer understands.</param>
/// <param name="Min">Lower bound for numbers, minimum length for text, minimum items for lists; null for none.</param>
/// <param name="Max">Upper bound for numbers, maximum length for text, maximum items for lists; null for none.</param>
/// <param name="Choices">Allowed values of a <see cref="ParameterKind.Choice"/>.</param>
[GenerateSerializer, Immutable, Alias("microapps.ParameterSpec")]
public sealed record ParameterSpec(
    [property: Id(0)] string Name,
    [property: Id(1)] ParameterKind Kind,
    [property: Id(2)] bool Required,
    [property: Id(3)] string? Default,
    [property: Id(4)] string Description,
    [property: Id(5)] double? Min = null,
    [property: Id(6)] double? Max = null,
    [property: Id(7)] IReadOnlyList<string>? Choices = null);

/// <summary>One step of a chain component: a prompt applied to the previous step's output (the first step gets the run's output).</summary>
[GenerateSerializer, Immutable, Alias("microapps.ChainStep")]
public sealed record ChainStep(
    [property: Id(0)] string Name,
    [property: Id(1)] string Prompt);

/// <summary>
/// One version of a catalog entry. Templates and connectors are implemented by the platform and seeded at start;
/// prompts and chains are published through the admin API. An entry version never changes once published.
/// </summary>
/// <param name="Kind">What it is.</param>
/// <param name="Name">Entry name (lower-case letters, digits, '-').</param>
/// <param name="Version">Semantic version <c>major.minor.patch</c>.</param>
/// <param name="Owner">Team or person accountable for it.</param>
/// <param name="Description">What it does.</param>
/// <param name="Tags">Search tags.</param>
/// <param name="Certified">Vetted by the platform team (built-ins are).</param>
/// <param name="SafeUpgrade">
/// For a patch version: marked safe, so apps on an earlier patch of the same major.minor move to it automatically.
/// Any other upgrade is proposed to the app owner.
/// </param>
/// <param name="Parameters">Parameters of a template or connector (and the <c>{{placeholders}}</c> of a prompt).</param>
/// <param name="Text">A prompt's text; empty otherwise.</param>
/// <param name="Steps">A chain's steps; empty otherwise.</param>
/// <param name="PublishedAt">When this version was published.</param>
/// <param name="PublishedBy">Who published it (<c>platform</c> for built-ins).</param>
[GenerateSerializer, Immutable, Alias("microapps.CatalogEntry")]
public sealed record CatalogEntry(
    [property: Id(0)] CatalogKind Kind,
    [property: Id(1)] string Name,
    [property: Id(2)] string Version,
    [property: Id(3)] string Owner,
    [property: Id(4)] string Description,
    [property: Id(5)] IReadOnlyList<string> Tags,
    [property: Id(6)] bool Certified,
    [property: Id(7)] bool SafeUpgrade,
    [property: Id(8)] IReadOnlyList<ParameterSpec> Parameters,
    [property: Id(9)] string Text,
    [property: Id(10)] IReadOnlyList<ChainStep> Steps,
    [property: Id(11)] DateTimeOffset PublishedAt,
    [property: Id(12)] string PublishedBy)
{
    public CatalogRef Ref => new(Name, Version);
}

/// <summary>A catalog search: free text over name, description and tags; optional kind and tag filters.</summary>
[GenerateSerializer, Immutable, Alias("microapps.CatalogQuery")]
public sealed record CatalogQuery(
    [property: Id(0)] string? Text = null,
    [property: Id(1)] CatalogKind? Kind = null,
    [property: Id(2)] string? Tag = null,
    [property: Id(3)] bool AllVersions = false);

/// <summary>
/// An upgrade of one reference of an app: applied automatically (a safe patch, resolved at run time) or proposed
/// to the owner (anything else), who accepts it by adding a version.
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.UpgradeProposal")]
public sealed record UpgradeProposal(
    [property: Id(0)] CatalogKind Kind,
    [property: Id(1)] CatalogRef Current,
    [property: Id(2)] CatalogRef Available,
    [property: Id(3)] bool Automatic,
    [property: Id(4)] string Reason);

/// <summary>One reference an app makes to the catalog: its template, a component, or a connector's <c>use</c>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.CatalogUse")]
public sealed record CatalogUse(
    [property: Id(0)] CatalogKind Kind,
    [property: Id(1)] CatalogRef Reference);

/// <summary>The platform catalog of templates and components (key <c>"default"</c>).</summary>
public interface ICatalogGrain : IGrainWithStringKey
{
    /// <summary>Latest version of each matching entry (or every version when <see cref="CatalogQuery.AllVersions"/>), by kind then name.</summary>
    [ReadOnly]
    Task<IReadOnlyList<CatalogEntry>> SearchAsync(CatalogQuery query);

    /// <summary>Exactly that version, or null.</summary>
    [ReadOnly]
    Task<CatalogEntry?> GetAsync(CatalogKind kind, CatalogRef reference);

    /// <summary>
    /// What an app pinned to <paramref name="reference"/> runs: the newest later patch of the same major.minor when every
    /// patch up to it is marked safe, else the pinned version itself; null when the pinned version does not exist.
    /// </summary>
    [ReadOnly]
    Task<CatalogEntry?> ResolveAsync(CatalogKind kind, CatalogRef reference);

    /// <summary>Publishes a prompt or chain version (templates and connectors come with the platform). Repeating an identical publish is a no-op; a different body for an existing version is refused.</summary>
    Task<CatalogEntry> PublishAsync(CatalogEntry entry);

    /// <summary>Upgrades available for the given references: automatic safe patches and proposed others.</summary>
    [ReadOnly]
    Task<IReadOnlyList<UpgradeProposal>> UpgradesAsync(IReadOnlyList<CatalogUse> references);
}

/// <summary>Per-run limits of the hosted runtime; the template's defaults apply where the manifest gives none, and the platform caps them.</summary>
/// <param name="MaxTokens">Tokens (input plus output, every model call of the run) a run may use.</param>
/// <param name="MaxSteps">Model calls and connector calls a run may make.</param>
/// <param name="MaxSeconds">Wall-clock seconds a run may take.</param>
[GenerateSerializer, Immutable, Alias("microapps.RunLimits")]
public sealed record RunLimits(
    [property: Id(0)] int MaxTokens,
    [property: Id(1)] int MaxSteps,
    [property: Id(2)] int MaxSeconds);

/// <summary>How an app came from another: imported from a pack, forked from an app, or upgraded from a newer pack.</summary>
[GenerateSerializer, Immutable, Alias("microapps.LineageStep")]
public sealed record LineageStep(
    [property: Id(0)] string Kind,
    [property: Id(1)] string FromAppId,
    [property: Id(2)] int FromVersion,
    [property: Id(3)] string PackDigest,
    [property: Id(4)] string Actor,
    [property: Id(5)] DateTimeOffset At);

/// <summary>
/// Where an app comes from: its canonical source (the app and version at the root of the chain) and every step since,
/// oldest first. Null on an app created from nothing.
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.AppLineage")]
public sealed record AppLineage(
    [property: Id(0)] string CanonicalAppId,
    [property: Id(1)] int CanonicalVersion,
    [property: Id(2)] IReadOnlyList<LineageStep> Steps);

/// <summary>Names of the built-in templates and connectors.</summary>
public static class BuiltIns
{
    public const string ChatAssistant = "chat-assistant";
    public const string Summarizer = "summarizer";
    public const string ApprovalsBot = "approvals-bot";

    public const string HttpJson = "http-json";
    public const string AzureBlob = "azure-blob";
    public const string Webhook = "webhook";

    /// <summary>Lineage step kinds.</summary>
    public const string Imported = "import";
    public const string Forked = "fork";
    public const string Upgraded = "upgrade";
}
