using System.Globalization;
using System.Text.Json;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>Query-string values the admin API's read endpoints share.</summary>
internal static class AdminQuery
{
    /// <summary>
    /// An ISO 8601 date or date-time (UTC when it has no offset); null when absent. A value that does not parse is
    /// recorded in <paramref name="errors"/> under <paramref name="name"/>.
    /// </summary>
    public static DateTimeOffset? ParseTime(string name, string? value, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return parsed;
        }

        errors[name] = [$"Must be an ISO 8601 date or date-time, e.g. 2026-11-29 or 2026-11-29T12:00:00Z; got '{value}'."];
        return null;
    }

    /// <summary>The admin API's name of an enum value: its name in lower snake case (<c>SoftShutdown</c> → <c>soft_shutdown</c>).</summary>
    public static string NameOf<TEnum>(TEnum value)
        where TEnum : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>
    /// The enum value whose admin API name (<see cref="NameOf{TEnum}"/>) is <paramref name="value"/>, ignoring case and
    /// surrounding spaces; numbers are not names.
    /// </summary>
    public static bool TryParseName<TEnum>(string value, out TEnum parsed)
        where TEnum : struct, Enum
    {
        var wanted = value.Trim();
        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            if (string.Equals(NameOf(candidate), wanted, StringComparison.OrdinalIgnoreCase))
            {
                parsed = candidate;
                return true;
            }
        }

        parsed = default;
        return false;
    }
}
