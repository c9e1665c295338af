using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using MicroApps.Orleans.Catalog;

namespace MicroApps.Orleans.Connectors;

/// <summary>
/// The connectors the platform implements, found by name and major version among catalog entries, and the plain rules
/// every connector call follows: host comparison, paths kept under a base URL, blob names kept inside a container.
/// </summary>
public static partial class CertifiedConnectors
{
    private static readonly IdnMapping Idn = new();

    /// <summary>Names the platform has an implementation for.</summary>
    public static IReadOnlyList<string> Implemented { get; } = [BuiltIns.HttpJson, BuiltIns.AzureBlob, BuiltIns.Webhook];

    /// <summary>
    /// The entry a <c>use</c> runs with: the exact version when <paramref name="entries"/> has it, else the newest entry of
    /// the same name and major version (a compatible implementation); null when there is none or the name is not implemented.
    /// </summary>
    public static CatalogEntry? Find(CatalogRef use, IReadOnlyList<CatalogEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(use);
        if (!Implemented.Contains(use.Name) || !CatalogRef.TryParse(use.ToString(), out var parsed))
        {
            return null;
        }

        var major = parsed.SemVer.Major;
        var candidates = entries
            .Where(e => e.Kind == CatalogKind.Connector && e.Name == use.Name && CatalogRef.TryParse(e.Ref.ToString(), out var r) && r.SemVer.Major == major)
            .ToList();
        return candidates.FirstOrDefault(e => e.Version == use.Version)
            ?? candidates.OrderByDescending(e => e.Ref.SemVer).FirstOrDefault();
    }

    /// <summary>The setting of a connector that holds its URL (<c>baseUrl</c>, <c>url</c>), or null (azure-blob has none).</summary>
    public static string? UrlSetting(CatalogEntry entry) => entry.Parameters.FirstOrDefault(p => p.Kind == ParameterKind.Url)?.Name;

    /// <summary>
    /// A host in the form hosts are compared in: lower case, ASCII (punycode), no trailing dot, IP literals as addresses
    /// without brackets. Null when it is not a host.
    /// </summary>
    public static string? NormalizeHost(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return null;
        }

        var text = host.Trim();
        if (text.StartsWith('[') && text.EndsWith(']'))
        {
            text = text[1..^1];
        }

        if (text.Contains(':') || text.All(c => char.IsAsciiDigit(c) || c == '.'))
        {
            return IPAddress.TryParse(text, out var address) ? address.ToString() : null;
        }

        text = text.TrimEnd('.');
        try
        {
            return text.Length == 0 ? null : Idn.GetAscii(text).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Whether two hosts are the same host (see <see cref="NormalizeHost"/>).</summary>
    public static bool SameHost(string? a, string? b) => NormalizeHost(a) is { } x && x == NormalizeHost(b);

    /// <summary>
    /// The URL <paramref name="path"/> names under <paramref name="baseUrl"/>, or why it would leave it. A leading '/' is
    /// relative to the base URL too. Refused: absolute URLs (any scheme), protocol-relative <c>//host</c>, backslashes,
    /// <c>.</c> and <c>..</c> segments (also percent-encoded), and encoded slashes.
    /// </summary>
    public static bool TryResolveUnder(Uri baseUrl, string? path, out Uri target, out string problem)
    {
        target = baseUrl;
        problem = "";
        var text = path ?? "";
        if (text.Contains('\\'))
        {
            problem = $"path '{text}' contains a backslash";
            return false;
        }

        if (text.StartsWith("//", StringComparison.Ordinal) || SchemePrefix().IsMatch(text))
        {
            problem = $"path '{text}' is an absolute URL; give a path under the connector's base URL";
            return false;
        }

        var end = text.IndexOfAny(['?', '#']);
        var pathPart = end < 0 ? text : text[..end];
        foreach (var segment in pathPart.Split('/'))
        {
            string unescaped;
            try
            {
                unescaped = Uri.UnescapeDataString(segment);
            }
            catch (UriFormatException)
            {
                problem = $"path '{text}' is not a valid URL path";
                return false;
            }

            if (unescaped is "." or ".." || unescaped.Contains('/') || unescaped.Contains('\\'))
            {
                problem = $"path '{text}' leaves the connector's base URL ('.', '..' and encoded slashes are not allowed)";
                return false;
            }
        }

        var root = baseUrl;
        if (!root.AbsolutePath.EndsWith('/'))
        {
            root = new UriBuilder(baseUrl) { Path = baseUrl.AbsolutePath + "/", Query = "", Fragment = "" }.Uri;
        }

        if (!Uri.TryCreate(root, text.TrimStart('/'), out var combined)
            || combined.Scheme != root.Scheme
            || !string.Equals(combined.Authority, root.Authority, StringComparison.OrdinalIgnoreCase)
            || !combined.AbsolutePath.StartsWith(root.AbsolutePath, StringComparison.Ordinal))
        {
            problem = $"path '{text}' leaves the connector's base URL {root}";
            return false;
        }

        target = combined;
        return true;
    }

    /// <summary>What is wrong with a blob name as a path inside a container, or null.</summary>
    public static string? BlobNameProblem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "no blob name given";
        }

        if (name.Length > 1024)
        {
            return $"blob name is {name.Length} characters; at most 1024";
        }

        if (name.Contains('\\') || name.StartsWith('/') || name.Split('/').Any(s => s is "." or ".." || s.Length == 0))
        {
            return $"blob name '{name}' leaves the container (no leading '/', empty, '.' or '..' segments, or backslashes)";
        }

        return null;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex SchemePrefix();
}
