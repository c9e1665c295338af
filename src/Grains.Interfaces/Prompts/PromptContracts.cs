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

/// <summary>A prompt as the registry lists it: its latest version and where it came from.</summary>
[GenerateSerializer, Immutable, Alias("microapps.PromptSummary")]
public sealed record PromptSummary(
    [property: Id(0)] string Name,
    [property: Id(1)] int LatestVersion,
    [property: Id(2)] string ContentHash,
    [property: Id(3)] string Author,
    [property: Id(4)] DateTimeOffset UpdatedAt,
    [property: Id(5)] string Description,
    [property: Id(6)] string? ForkedFrom);

/// <summary>
/// A canonical prompt (key: prompt name) with its versions. Versions are immutable; publishing the same text
/// as the latest version again returns that version instead of adding one, so a retried publish is harmless.
/// </summary>
public interface IPromptGrain : IGrainWithStringKey
{
    /// <summary>
    /// Publishes <paramref name="text"/> as the next version, or returns the latest version when its text is
    /// identical. <paramref name="forkedFrom"/> (<c>name@version</c>) must name an existing version.
    /// Throws <see cref="ArgumentException"/> for an invalid name, empty text or an unknown <paramref name="forkedFrom"/>.
    /// </summary>
    Task<PromptVersionInfo> PublishVersionAsync(string text, string author, string description, string? forkedFrom);

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
    Task<PromptVersionInfo> ForkAsync(string targetName, string author, string description, int? version);
}

/// <summary>Every prompt's latest version, for listing (key: 0). Prompt grains keep it current.</summary>
public interface IPromptRegistryGrain : IGrainWithIntegerKey
{
    Task RegisterAsync(PromptSummary summary);

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
