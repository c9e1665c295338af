using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace MicroApps.Orleans.Apps;

/// <summary>
/// The app key format <c>mak.{appId}.{keyId}.{secret}</c>. The app id travels in the key so
/// the governed call reaches the right app grain without a lookup table.
/// </summary>
public static partial class ApiKeys
{
    public const string Prefix = "mak";

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")]
    private static partial Regex AppIdPattern();

    /// <summary>App ids: 3–40 characters of lower-case letters, digits and '-', not starting or ending with '-'.</summary>
    public static bool IsValidAppId(string? appId) => appId is not null && AppIdPattern().IsMatch(appId);

    public static string Format(string appId, string keyId, string secret) => $"{Prefix}.{appId}.{keyId}.{secret}";

    public static bool TryParse(
        string? apiKey,
        [NotNullWhen(true)] out string? appId,
        [NotNullWhen(true)] out string? keyId,
        [NotNullWhen(true)] out string? secret)
    {
        appId = keyId = secret = null;
        if (string.IsNullOrEmpty(apiKey) || apiKey.Length > 256)
        {
            return false;
        }

        var parts = apiKey.Split('.');
        if (parts.Length != 4 || parts[0] != Prefix || !IsValidAppId(parts[1]) || parts[2].Length == 0 || parts[3].Length == 0)
        {
            return false;
        }

        (appId, keyId, secret) = (parts[1], parts[2], parts[3]);
        return true;
    }
}
