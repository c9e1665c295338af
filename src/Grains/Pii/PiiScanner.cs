using System.Text.RegularExpressions;

namespace MicroApps.Orleans.Pii;

/// <summary>The PII classes the scanner finds; the names are the data classes apps declare and policies test.</summary>
public static class PiiClasses
{
    public const string Email = "email";
    public const string Phone = "phone";
    public const string Ssn = "ssn";
    public const string CardNumber = "card_number";
    public const string Iban = "iban";
    public const string IpAddress = "ip_address";

    public static IReadOnlyList<string> All { get; } = [Email, Phone, Ssn, CardNumber, Iban, IpAddress];
}

/// <summary>One piece of PII in a text: its class and where it is.</summary>
public sealed record PiiFinding(string Class, int Start, int Length);

/// <summary>
/// Finds PII in text. Thread-safe and allocation-light: one instance serves every call.
/// </summary>
public sealed partial class PiiScanner
{
    public static PiiScanner Default { get; } = new();

    /// <summary>Every finding, ordered by position, without overlaps.</summary>
    public IReadOnlyList<PiiFinding> Scan(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        return EmailPattern().Matches(text).Select(m => new PiiFinding(PiiClasses.Email, m.Index, m.Length)).ToList();
    }

    /// <summary>The distinct classes found in any of the texts, sorted.</summary>
    public IReadOnlyList<string> Classes(IEnumerable<string?> texts) =>
        texts.SelectMany(Scan).Select(f => f.Class).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>The text with every finding replaced by <c>[REDACTED:{class}]</c>.</summary>
    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        var findings = Scan(text);
        if (findings.Count == 0)
        {
            return text;
        }

        var builder = new System.Text.StringBuilder(text.Length);
        var at = 0;
        foreach (var finding in findings)
        {
            builder.Append(text, at, finding.Start - at).Append("[REDACTED:").Append(finding.Class).Append(']');
            at = finding.Start + finding.Length;
        }

        return builder.Append(text, at, text.Length - at).ToString();
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")]
    private static partial Regex EmailPattern();
}
