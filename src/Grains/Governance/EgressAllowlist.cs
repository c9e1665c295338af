namespace MicroApps.Orleans.Governance;

/// <summary>
/// The hosts an app's connectors may reach: exact host names (<c>api.example.com</c>) or one leading wildcard
/// label (<c>*.example.com</c>, which matches sub-domains but not <c>example.com</c> itself).
/// </summary>
public sealed class EgressAllowlist(IReadOnlyList<string> entries)
{
    public IReadOnlyList<string> Entries { get; } = entries;

    /// <summary>What is wrong with an entry, or null when it is a valid host or wildcard.</summary>
    public static string? ValidateEntry(string entry) => string.IsNullOrWhiteSpace(entry) ? "an entry must name a host" : null;

    /// <summary>Whether the host is on the list (case-insensitive).</summary>
    public bool Allows(string host) => Entries.Contains(host, StringComparer.OrdinalIgnoreCase);
}
