using System.Text.RegularExpressions;

namespace MicroApps.Orleans.Apps;

/// <summary>What a per-app feature flag may be called; shared by the app grain and the admin API.</summary>
public static partial class FeatureFlags
{
    public const string NameRule = "1-64 characters of a-z, 0-9 and '.', '_', '-', starting with a letter or digit";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);
}
