using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace MicroApps.Orleans.Governance;

/// <summary>
/// The hosts an app's connectors may reach: exact host names (<c>api.example.com</c>) or one leading wildcard
/// label (<c>*.example.com</c>, which matches sub-domains but not <c>example.com</c> itself).
/// </summary>
/// <remarks>
/// Matching is case-insensitive and ignores a trailing dot (<c>API.Example.com.</c> is <c>api.example.com</c>);
/// internationalised names are compared in their ASCII (punycode) form. <c>*.example.com</c> matches sub-domains at
/// any depth (<c>a.example.com</c>, <c>a.b.example.com</c>) but never the apex. IP literals (<c>10.0.0.5</c>,
/// <c>2001:db8::1</c>) are allowed exactly, as addresses (<c>2001:db8:0::1</c> is the same entry); a wildcard never
/// matches an IP address. Entries that <see cref="ValidateEntry"/> refuses never match anything.
/// </remarks>
public sealed class EgressAllowlist
{
    private static readonly IdnMapping Idn = new();
    private readonly HashSet<string> _exactHosts = new(StringComparer.Ordinal);
    private readonly List<string> _wildcardSuffixes = [];
    private readonly List<IPAddress> _addresses = [];

    public EgressAllowlist(IReadOnlyList<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Entries = entries;
        foreach (var entry in entries)
        {
            if (entry is null || ValidateEntry(entry) is not null)
            {
                continue;
            }

            var normalized = NormalizeEntry(entry);
            if (TryParseAddress(normalized, out var address))
            {
                _addresses.Add(address);
            }
            else if (normalized.StartsWith("*.", StringComparison.Ordinal))
            {
                _wildcardSuffixes.Add(normalized[1..]);
            }
            else
            {
                _exactHosts.Add(normalized);
            }
        }
    }

    public IReadOnlyList<string> Entries { get; }

    /// <summary>What is wrong with an entry, or null when it is a valid host, IP literal or leading wildcard.</summary>
    public static string? ValidateEntry(string entry)
    {
        if (string.IsNullOrWhiteSpace(entry))
        {
            return "an entry must name a host";
        }

        var text = entry.Trim();
        if (text.Contains("://", StringComparison.Ordinal))
        {
            return $"'{entry}' is a URL: give the host only (e.g. 'api.example.com'), without a scheme";
        }

        if (text.IndexOfAny(['/', '?', '#']) >= 0)
        {
            return $"'{entry}' has a path: give the host only, without '/' and what follows";
        }

        if (text.Contains('@'))
        {
            return $"'{entry}' has user information: give the host only";
        }

        if (TryParseAddress(text, out _))
        {
            return null;
        }

        if (text.Contains(':'))
        {
            return $"'{entry}' has a port: give the host only (any port on an allowed host is allowed)";
        }

        if (text.Any(char.IsWhiteSpace))
        {
            return $"'{entry}' contains white space";
        }

        if (text == "*" || text == "*.")
        {
            return "'*' alone would allow every host: name the hosts or a domain ('*.example.com')";
        }

        var wildcard = text.StartsWith("*.", StringComparison.Ordinal);
        var host = wildcard ? text[2..] : text;
        if (host.Contains('*'))
        {
            return $"'{entry}' has a wildcard that is not the whole leading label: only '*.domain' is allowed";
        }

        if (host.EndsWith('.'))
        {
            host = host[..^1];
        }

        if (host.Split('.').Any(label => label.Length == 0))
        {
            return $"'{entry}' has an empty or over-long label (each dot-separated part is 1 to 63 characters)";
        }

        string ascii;
        try
        {
            ascii = Idn.GetAscii(host).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return $"'{entry}' is not a valid host name";
        }

        if (ascii.Length is 0 or > 253)
        {
            return $"'{entry}' is not a valid host name (1 to 253 characters)";
        }

        var labels = ascii.Split('.');
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63)
            {
                return $"'{entry}' has an empty or over-long label (each dot-separated part is 1 to 63 characters)";
            }

            if (label[0] == '-' || label[^1] == '-' || !label.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-'))
            {
                return $"'{entry}' has a label '{label}' that is not a host-name label (letters, digits, inner hyphens)";
            }
        }

        if (wildcard && labels.Length < 2)
        {
            return $"'{entry}' would allow a whole top-level domain: a wildcard needs a domain with at least two labels ('*.example.com')";
        }

        if (labels.All(l => l.All(char.IsAsciiDigit)))
        {
            return $"'{entry}' looks like an IP address but is not a valid one";
        }

        return null;
    }

    /// <summary>Whether the host is on the list (case-insensitive, trailing dot ignored, IP literals compared as addresses).</summary>
    public bool Allows(string host) => Check(host).Allowed;

    /// <summary>Whether an absolute <c>http</c>/<c>https</c> URL's host is on the list; any other URL is not allowed.</summary>
    public bool Allows(Uri target) =>
        target is { IsAbsoluteUri: true } && (target.Scheme == Uri.UriSchemeHttp || target.Scheme == Uri.UriSchemeHttps) && Allows(target.IdnHost);

    /// <summary>Whether the host is on the list, and why: the entry it matched, or that no entry matches.</summary>
    public (bool Allowed, string Reason) Check(string host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return (false, "no host given");
        }

        var normalized = NormalizeHost(host);
        if (normalized is null)
        {
            return (false, $"'{host}' is not a valid host name");
        }

        if (TryParseAddress(normalized, out var address))
        {
            return _addresses.Any(a => a.Equals(address))
                ? (true, $"address {address} is on the allowlist")
                : (false, $"address {address} is not on the allowlist");
        }

        if (_exactHosts.Contains(normalized))
        {
            return (true, $"host {normalized} is on the allowlist");
        }

        foreach (var suffix in _wildcardSuffixes)
        {
            if (normalized.Length > suffix.Length && normalized.EndsWith(suffix, StringComparison.Ordinal))
            {
                return (true, $"host {normalized} matches *{suffix}");
            }
        }

        var apex = _wildcardSuffixes.FirstOrDefault(s => s[1..] == normalized);
        return apex is null
            ? (false, $"host {normalized} is not on the allowlist")
            : (false, $"host {normalized} is not on the allowlist (*{apex} covers its sub-domains, not the domain itself)");
    }

    private static string NormalizeEntry(string entry)
    {
        var text = entry.Trim();
        if (TryParseAddress(text, out var address))
        {
            return address.ToString();
        }

        var wildcard = text.StartsWith("*.", StringComparison.Ordinal);
        var host = NormalizeHost(wildcard ? text[2..] : text) ?? "";
        return wildcard ? "*." + host : host;
    }

    private static string? NormalizeHost(string host)
    {
        var text = host.Trim();
        if (text.StartsWith('[') && text.EndsWith(']'))
        {
            text = text[1..^1];
        }

        if (TryParseAddress(text, out var address))
        {
            return address.ToString();
        }

        if (text.EndsWith('.'))
        {
            text = text[..^1];
        }

        try
        {
            return Idn.GetAscii(text).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// A strict IP literal: dotted-quad IPv4 with four parts (IPAddress.TryParse alone also accepts "10" or "10.1"), or IPv6
    /// with or without brackets.
    /// </summary>
    private static bool TryParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        var candidate = text.StartsWith('[') && text.EndsWith(']') ? text[1..^1] : text;
        if (candidate.Length == 0 || !IPAddress.TryParse(candidate, out var parsed))
        {
            return false;
        }

        if (parsed.AddressFamily == AddressFamily.InterNetwork
            && (candidate.Count(c => c == '.') != 3 || !candidate.All(c => char.IsAsciiDigit(c) || c == '.')))
        {
            return false;
        }

        if (parsed.AddressFamily == AddressFamily.InterNetworkV6 && (candidate.Contains('%') || !candidate.Contains(':')))
        {
            return false;
        }

        address = parsed;
        return true;
    }
}
