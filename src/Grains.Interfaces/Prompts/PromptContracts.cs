using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.Prompts;

/// <summary>One immutable version of a canonical prompt.</summary>
/// <param name="Name">Prompt name (see <see cref="PromptNames.IsValid"/>).</param>
/// <param name="Version">1, 2, … in publication order.</param>
/// <param name="Text">The prompt text, sent to the model as a system message.</param>
/// <param name="ContentHash">Lower-case hex SHA-256 of the UTF-8 text (<see cref="PromptNames.Hash"/>).</param>
/// <param name="ForkedFrom">The version this one was forked from (<c>name@version</c>), or null.</param>
/// <param name="Author">Who published it.</param>
/// <param name="CreatedAt">When it was published.</param>
/// <param name="Description">What changed or what the prompt is for; may be empty.</param>
[GenerateSerializer, Immutable, Alias("microapps.PromptVersionInfo")]
public sealed record PromptVersionInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] int Version,
    [property: Id(2)] string Text,
    [property: Id(3)] string ContentHash,
    [property: Id(4)] string? ForkedFrom,
    [property: Id(5)] string Author,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] string Description)
{
    /// <summary><c>name@version</c>, the form app versions pin and lineage names.</summary>
    public string Reference => $"{Name}@{Version}";
}

/// <summary>A prompt as the registry lists it: its latest version, where it came from and who owns it.</summary>
/// <param name="Name">Prompt name.</param>
/// <param name="LatestVersion">Number of the latest version.</param>
/// <param name="ContentHash">SHA-256 of the latest version's text.</param>
/// <param name="Author">Who published the latest version.</param>
/// <param name="UpdatedAt">When the latest version was published.</param>
/// <param name="Description">The latest version's description.</param>
/// <param name="ForkedFrom">The lineage of the first version (<c>name@version</c>), or null.</param>
/// <param name="Owner">
/// Who owns the prompt: the principal who published its first version. Null only in a summary stored before owners
/// were recorded; the registry fills it in when it activates.
/// </param>
[GenerateSerializer, Immutable, Alias("microapps.PromptSummary")]
public sealed record PromptSummary(
    [property: Id(0)] string Name,
    [property: Id(1)] int LatestVersion,
    [property: Id(2)] string ContentHash,
    [property: Id(3)] string Author,
    [property: Id(4)] DateTimeOffset UpdatedAt,
    [property: Id(5)] string Description,
    [property: Id(6)] string? ForkedFrom,
    [property: Id(7)] string? Owner = null);

/// <summary>A prompt with its owner and every version, oldest first.</summary>
/// <param name="Name">Prompt name.</param>
/// <param name="Versions">Every version, oldest first (never empty).</param>
/// <param name="Owner">The principal who published the first version; only they (and admins) publish new versions.</param>
[GenerateSerializer, Immutable, Alias("microapps.PromptInfo")]
public sealed record PromptInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string Owner,
    [property: Id(2)] IReadOnlyList<PromptVersionInfo> Versions);

/// <summary>A request to publish a version, checked against the prompt's owner by <see cref="IPromptGrain.PublishAsync"/>.</summary>
/// <param name="Text">The prompt text.</param>
/// <param name="Author">The principal publishing; becomes the owner when this is the first version.</param>
/// <param name="Description">What changed or what the prompt is for; may be empty.</param>
/// <param name="ForkedFrom">The version this text comes from (<c>name@version</c>), or null.</param>
/// <param name="MayPublishToAnyPrompt">
/// True when the caller may publish to a prompt someone else owns (the admin role); false limits
/// <paramref name="Author"/> to prompts they own or that do not exist yet.
/// </param>
[GenerateSerializer, Immutable, Alias("microapps.PromptPublication")]
public sealed record PromptPublication(
    [property: Id(0)] string Text,
    [property: Id(1)] string Author,
    [property: Id(2)] string Description,
    [property: Id(3)] string? ForkedFrom,
    [property: Id(4)] bool MayPublishToAnyPrompt);

/// <summary>What <see cref="IPromptGrain.PublishAsync"/> did.</summary>
public enum PromptPublishOutcome
{
    /// <summary>A new version was published.</summary>
    Published = 0,

    /// <summary>The text equals the latest version's; that version is returned and nothing changed.</summary>
    Unchanged = 1,

    /// <summary>Refused: the prompt belongs to someone else and the caller may not publish to others' prompts.</summary>
    NotOwner = 2,
}

/// <summary>The answer of <see cref="IPromptGrain.PublishAsync"/>.</summary>
/// <param name="Outcome">Published, unchanged, or refused because the caller does not own the prompt.</param>
/// <param name="Version">The new or unchanged latest version; for <see cref="PromptPublishOutcome.NotOwner"/> the latest version, for reference.</param>
/// <param name="Owner">The prompt's owner after the call.</param>
[GenerateSerializer, Immutable, Alias("microapps.PromptPublishResult")]
public sealed record PromptPublishResult(
    [property: Id(0)] PromptPublishOutcome Outcome,
    [property: Id(1)] PromptVersionInfo Version,
    [property: Id(2)] string Owner);

/// <summary>
/// A canonical prompt (key: prompt name) with its versions. Versions are immutable; publishing the same text
/// as the latest version again returns that version instead of adding one, so a retried publish is harmless.
/// The principal who publishes the first version owns the prompt; <see cref="PublishAsync"/> lets only the owner
/// (or a caller allowed to publish anywhere) add versions, while anyone may fork a version into a new prompt.
/// </summary>
public interface IPromptGrain : IGrainWithStringKey
{
    /// <summary>
    /// Publishes <paramref name="text"/> as the next version, or returns the latest version when its text is
    /// identical. <paramref name="forkedFrom"/> (<c>name@version</c>) must name an existing version.
    /// Throws <see cref="ArgumentException"/> for an invalid name, empty text or an unknown <paramref name="forkedFrom"/>.
    /// </summary>
    /// <remarks>
    /// Does not check the owner (as <see cref="PromptPublication.MayPublishToAnyPrompt"/> = true): for trusted
    /// in-cluster callers. The admin API publishes through <see cref="PublishAsync"/>.
    /// </remarks>
    Task<PromptVersionInfo> PublishVersionAsync(string text, string author, string description, string? forkedFrom);

    /// <summary>
    /// Publishes a version on behalf of <see cref="PromptPublication.Author"/>, deciding ownership here so that
    /// concurrent first publications cannot both win: the author of the first version becomes the owner; a later
    /// version by anyone else is refused (<see cref="PromptPublishOutcome.NotOwner"/>, nothing stored) unless
    /// <see cref="PromptPublication.MayPublishToAnyPrompt"/>. Otherwise as <see cref="PublishVersionAsync"/>,
    /// including its <see cref="ArgumentException"/>s.
    /// </summary>
    Task<PromptPublishResult> PublishAsync(PromptPublication publication);

    /// <summary>The prompt's owner and every version; null when the prompt does not exist.</summary>
    [ReadOnly]
    Task<PromptInfo?> GetInfoAsync();

    /// <summary>One version, the latest when <paramref name="version"/> is null; null when it does not exist.</summary>
    /// <remarks>Interleaves: a fork's target asks its source whether the version exists while the source awaits the fork.</remarks>
    [AlwaysInterleave]
    Task<PromptVersionInfo?> GetAsync(int? version);

    /// <summary>Every version, oldest first; empty when the prompt does not exist.</summary>
    [ReadOnly]
    Task<IReadOnlyList<PromptVersionInfo>> ListVersionsAsync();

    /// <summary>
    /// Forks one version of this prompt (the latest when <paramref name="version"/> is null) into the prompt
    /// <paramref name="targetName"/>, whose new version records this one as <c>forkedFrom</c>.
    /// </summary>
    /// <remarks>Publishes with <see cref="PublishVersionAsync"/>, so it does not check the target's owner either.</remarks>
    Task<PromptVersionInfo> ForkAsync(string targetName, string author, string description, int? version);
}

/// <summary>Every prompt's latest version, for listing (key: 0). Prompt grains keep it current.</summary>
public interface IPromptRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Records a prompt's latest version; an older version than the one known is ignored.</summary>
    Task RegisterAsync(PromptSummary summary);

    /// <summary>Every prompt by name, with its owner.</summary>
    [ReadOnly]
    Task<IReadOnlyList<PromptSummary>> ListAsync();
}

/// <summary>Rules for prompt names, references and hashes, shared by the grains and the admin API.</summary>
public static partial class PromptNames
{
    /// <summary>Longest accepted prompt text, in characters.</summary>
    public const int MaxTextLength = 100_000;

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,58}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    /// <summary>3–60 characters of lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.</summary>
    public static bool IsValid(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>What a valid name looks like, for error messages.</summary>
    public const string NameRule = "a prompt name is 3-60 characters of a-z, 0-9, '-' and '.', starting and ending with a letter or digit";

    /// <summary>Parses <c>name@version</c>; false when either part is invalid.</summary>
    public static bool TryParseReference(string? reference, out string name, out int version)
    {
        name = "";
        version = 0;
        var at = reference?.LastIndexOf('@') ?? -1;
        if (at <= 0)
        {
            return false;
        }

        var candidate = reference![..at];
        if (!IsValid(candidate) || !int.TryParse(reference.AsSpan(at + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out version) || version < 1)
        {
            version = 0;
            return false;
        }

        name = candidate;
        return true;
    }

    /// <summary>Lower-case hex SHA-256 of the UTF-8 text.</summary>
    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>The prompt version label of an app version, as the trace's <c>prompt_version</c> and the cache key carry it.</summary>
public static class PromptVersions
{
    /// <summary>
    /// The pins joined with ',' in manifest order (<c>summary@3,tone@1</c>) when the manifest pins registry
    /// prompts; otherwise the manifest's free-text <see cref="AppManifest.PromptVersion"/>.
    /// </summary>
    public static string Label(AppManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.Prompts is { Count: > 0 } pins
            ? string.Join(",", pins.Select(p => p.ToString()))
            : manifest.PromptVersion;
    }
}
