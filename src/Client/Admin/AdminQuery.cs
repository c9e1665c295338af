using System.Globalization;

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
}
