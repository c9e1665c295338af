using System.Net;
using System.Net.Sockets;
using System.Text;
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
/// <remarks>
/// Each class has a source-generated candidate pattern; every candidate is then confirmed in code (Luhn and issuer
/// prefixes for cards, mod-97 and per-country length for IBANs, SSA rules for SSNs, octet ranges and
/// <see cref="IPAddress.TryParse(string, out IPAddress)"/> for addresses, digit counts and shape for phones). Numbers
/// that are part of a longer number (a version <c>1.2.3.4.5</c>, a tracking number, an id glued to letters) are not
/// candidates. Weak shapes (an unformatted 9-digit SSN, an unformatted or national-format phone number) count only
/// after a cue word ("SSN", "phone", "tel", "call"…) shortly before them. See docs/pii.md for the formats.
/// Overlapping candidates resolve to the more specific class: email, IBAN, card, SSN, IP address, then phone.
/// </remarks>
public sealed partial class PiiScanner
{
    private const int CueWindow = 32;
    private const int MinPhoneDigits = 10;
    private const int MaxPhoneDigits = 15;

    public static PiiScanner Default { get; } = new();

    /// <summary>Every finding, ordered by position, without overlaps.</summary>
    public IReadOnlyList<PiiFinding> Scan(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        // Most messages hold no '@' and many no digit: skip the patterns that cannot match (the scan is on the hot path).
        var candidates = new List<Candidate>();
        var span = text.AsSpan();
        if (span.Contains('@'))
        {
            FindEmails(text, candidates);
        }

        if (span.IndexOfAnyInRange('0', '9') >= 0)
        {
            FindIbans(text, candidates);
            FindCards(text, candidates);
            FindSsns(text, candidates);
            FindPhones(text, candidates);
            if (span.Contains('.'))
            {
                FindIpv4Addresses(text, candidates);
            }
        }

        if (span.Contains(':'))
        {
            FindIpv6Addresses(text, candidates);
        }

        if (candidates.Count == 0)
        {
            return [];
        }

        return Resolve(candidates);
    }

    /// <summary>The distinct classes found in any of the texts, sorted.</summary>
    public IReadOnlyList<string> Classes(IEnumerable<string?> texts) => ClassesOf(texts.Select(Scan));

    /// <summary>The distinct classes of findings already made (one list per text), sorted.</summary>
    public static IReadOnlyList<string> ClassesOf(IEnumerable<IReadOnlyList<PiiFinding>> findings) =>
        findings.SelectMany(f => f).Select(f => f.Class).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Whether the text holds any PII.</summary>
    public bool ContainsPii(string? text) => Scan(text).Count > 0;

    /// <summary>The text with every finding replaced by <c>[REDACTED:{class}]</c>.</summary>
    public string Redact(string? text) => Redact(text, Scan(text));

    /// <summary>
    /// The text with the given findings, which <see cref="Scan"/> made of this very text, replaced by
    /// <c>[REDACTED:{class}]</c>: a caller that has already scanned does not scan again.
    /// </summary>
    public string Redact(string? text, IReadOnlyList<PiiFinding> findings)
    {
        if (string.IsNullOrEmpty(text) || findings.Count == 0)
        {
            return text ?? "";
        }

        var builder = new StringBuilder(text.Length);
        var at = 0;
        foreach (var finding in findings)
        {
            builder.Append(text, at, finding.Start - at).Append("[REDACTED:").Append(finding.Class).Append(']');
            at = finding.Start + finding.Length;
        }

        return builder.Append(text, at, text.Length - at).ToString();
    }

    private readonly record struct Candidate(string Class, int Start, int Length, int Priority)
    {
        public int End => Start + Length;
    }

    private static List<PiiFinding> Resolve(List<Candidate> candidates)
    {
        // Most specific first, then the longer span, then the earlier one; a candidate that overlaps an accepted one is dropped.
        candidates.Sort((a, b) => a.Priority != b.Priority ? b.Priority.CompareTo(a.Priority)
            : a.Length != b.Length ? b.Length.CompareTo(a.Length)
            : a.Start.CompareTo(b.Start));
        var accepted = new List<Candidate>(candidates.Count);
        foreach (var candidate in candidates)
        {
            if (!accepted.Exists(a => a.Start < candidate.End && candidate.Start < a.End))
            {
                accepted.Add(candidate);
            }
        }

        accepted.Sort((a, b) => a.Start.CompareTo(b.Start));
        return accepted.ConvertAll(c => new PiiFinding(c.Class, c.Start, c.Length));
    }

    // ---- email ---------------------------------------------------------------------------------------------------

    private static readonly HashSet<string> FileExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "pdf", "js", "css", "map", "json", "txt",
    };

    private static void FindEmails(string text, List<Candidate> candidates)
    {
        foreach (var match in EmailPattern().EnumerateMatches(text))
        {
            var span = text.AsSpan(match.Index, match.Length);
            var at = span.IndexOf('@');
            var local = span[..at];
            var domain = span[(at + 1)..];
            if (local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
            {
                continue;
            }

            // "logo@2x.png" is an asset name, not an address.
            var tld = domain[(domain.LastIndexOf('.') + 1)..];
            if (FileExtensions.Contains(tld.ToString()))
            {
                continue;
            }

            var labelsOk = true;
            foreach (var range in domain.Split('.'))
            {
                var label = domain[range];
                if (label.Length == 0 || label[0] == '-' || label[^1] == '-')
                {
                    labelsOk = false;
                    break;
                }
            }

            if (labelsOk)
            {
                candidates.Add(new Candidate(PiiClasses.Email, match.Index, match.Length, 6));
            }
        }
    }

    // ---- IBAN ----------------------------------------------------------------------------------------------------

    /// <summary>IBAN lengths per country (SWIFT IBAN registry) for the countries we check.</summary>
    private static readonly Dictionary<string, int> IbanLengths = new(StringComparer.Ordinal)
    {
        ["AD"] = 24, ["AE"] = 23, ["AL"] = 28, ["AT"] = 20, ["AZ"] = 28, ["BA"] = 20, ["BE"] = 16, ["BG"] = 22,
        ["BH"] = 22, ["BR"] = 29, ["CH"] = 21, ["CR"] = 22, ["CY"] = 28, ["CZ"] = 24, ["DE"] = 22, ["DK"] = 18,
        ["DO"] = 28, ["EE"] = 20, ["EG"] = 29, ["ES"] = 24, ["FI"] = 18, ["FO"] = 18, ["FR"] = 27, ["GB"] = 22,
        ["GE"] = 22, ["GI"] = 23, ["GL"] = 18, ["GR"] = 27, ["GT"] = 28, ["HR"] = 21, ["HU"] = 28, ["IE"] = 22,
        ["IL"] = 23, ["IS"] = 26, ["IT"] = 27, ["JO"] = 30, ["KW"] = 30, ["KZ"] = 20, ["LB"] = 28, ["LI"] = 21,
        ["LT"] = 20, ["LU"] = 20, ["LV"] = 21, ["MC"] = 27, ["MD"] = 24, ["ME"] = 22, ["MK"] = 19, ["MR"] = 27,
        ["MT"] = 31, ["MU"] = 30, ["NL"] = 18, ["NO"] = 15, ["PK"] = 24, ["PL"] = 28, ["PS"] = 29, ["PT"] = 25,
        ["QA"] = 29, ["RO"] = 24, ["RS"] = 22, ["SA"] = 24, ["SE"] = 24, ["SI"] = 19, ["SK"] = 24, ["SM"] = 27,
        ["TN"] = 24, ["TR"] = 26, ["UA"] = 29, ["VG"] = 24, ["XK"] = 20,
    };

    private static void FindIbans(string text, List<Candidate> candidates)
    {
        Span<char> compact = stackalloc char[36];
        foreach (var match in IbanPattern().EnumerateMatches(text))
        {
            var span = text.AsSpan(match.Index, match.Length);
            if (!IbanLengths.TryGetValue(span[..2].ToString().ToUpperInvariant(), out var length))
            {
                continue;
            }

            // The pattern may run on into a following upper-case word ("… 0130 00 BIC …"): cut at the country's length.
            var count = 0;
            var end = 0;
            for (; end < span.Length && count < length; end++)
            {
                if (span[end] != ' ')
                {
                    compact[count++] = char.ToUpperInvariant(span[end]);
                }
            }

            if (count != length || (end < span.Length && span[end] != ' ')
                || (match.Index + end < text.Length && char.IsLetterOrDigit(text[match.Index + end])))
            {
                continue;
            }

            if (IbanChecksumIsValid(compact[..length]))
            {
                candidates.Add(new Candidate(PiiClasses.Iban, match.Index, end, 5));
            }
        }
    }

    /// <summary>ISO 13616 mod-97: move the first four characters to the end, letters as 10..35, remainder must be 1.</summary>
    internal static bool IbanChecksumIsValid(ReadOnlySpan<char> iban)
    {
        if (iban.Length < 5 || !char.IsAsciiDigit(iban[2]) || !char.IsAsciiDigit(iban[3]))
        {
            return false;
        }

        var remainder = 0;
        for (var i = 0; i < iban.Length; i++)
        {
            var c = iban[(i + 4) % iban.Length];
            if (char.IsAsciiDigit(c))
            {
                remainder = (remainder * 10 + (c - '0')) % 97;
            }
            else if (char.IsAsciiLetterUpper(c))
            {
                remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
            }
            else
            {
                return false;
            }
        }

        return remainder == 1;
    }

    // ---- payment cards -------------------------------------------------------------------------------------------

    private static void FindCards(string text, List<Candidate> candidates)
    {
        Span<byte> digits = stackalloc byte[19];
        foreach (var match in CardPattern().EnumerateMatches(text))
        {
            var count = 0;
            foreach (var c in text.AsSpan(match.Index, match.Length))
            {
                if (char.IsAsciiDigit(c))
                {
                    if (count == digits.Length)
                    {
                        count++;
                        break;
                    }

                    digits[count++] = (byte)(c - '0');
                }
            }

            if (count is >= 13 and <= 19 && IsKnownCardPrefix(digits[..count]) && LuhnIsValid(digits[..count]))
            {
                candidates.Add(new Candidate(PiiClasses.CardNumber, match.Index, match.Length, 4));
            }
        }
    }

    /// <summary>Issuer identification prefixes and the lengths each network issues.</summary>
    internal static bool IsKnownCardPrefix(ReadOnlySpan<byte> d)
    {
        var length = d.Length;
        var p2 = d[0] * 10 + d[1];
        var p3 = p2 * 10 + d[2];
        var p4 = p3 * 10 + d[3];
        var p6 = (p4 * 10 + d[4]) * 10 + d[5];
        return (d[0] == 4 && length is 13 or 16 or 19)                                            // Visa
            || ((p2 is >= 51 and <= 55 || p4 is >= 2221 and <= 2720) && length == 16)              // Mastercard
            || (p2 is 34 or 37 && length == 15)                                                    // American Express
            || ((p4 == 6011 || p2 == 65 || p3 is >= 644 and <= 649 || p6 is >= 622126 and <= 622925)
                && length is >= 16 and <= 19)                                                      // Discover
            || ((p3 is >= 300 and <= 305 || p2 is 36 or 38 or 39) && length is >= 14 and <= 19)   // Diners Club
            || (p4 is >= 3528 and <= 3589 && length is >= 16 and <= 19)                            // JCB
            || (p2 == 62 && length is >= 16 and <= 19)                                             // UnionPay
            || (p4 is 5018 or 5020 or 5038 or 5893 or 6304 or 6759 or 6761 or 6762 or 6763
                && length is >= 13 and <= 19);                                                     // Maestro
    }

    internal static bool LuhnIsValid(ReadOnlySpan<byte> digits)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i];
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return sum % 10 == 0;
    }

    // ---- SSN -----------------------------------------------------------------------------------------------------

    private static void FindSsns(string text, List<Candidate> candidates)
    {
        Span<char> digits = stackalloc char[9];
        foreach (var match in SsnPattern().EnumerateMatches(text))
        {
            var span = text.AsSpan(match.Index, match.Length);
            var count = 0;
            foreach (var c in span)
            {
                if (char.IsAsciiDigit(c))
                {
                    digits[count++] = c;
                }
            }

            // Only AAA-GG-SSSS is distinctive on its own; "AAA GG SSSS" and nine bare digits need a cue.
            var dashed = span.Length == 11 && span[3] == '-' && span[6] == '-';
            if (count == 9 && SsnIsValid(digits) && (dashed || HasCue(text, match.Index, SsnCue())))
            {
                candidates.Add(new Candidate(PiiClasses.Ssn, match.Index, match.Length, 3));
            }
        }
    }

    /// <summary>SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000.</summary>
    internal static bool SsnIsValid(ReadOnlySpan<char> nineDigits)
    {
        var area = (nineDigits[0] - '0') * 100 + (nineDigits[1] - '0') * 10 + (nineDigits[2] - '0');
        var group = (nineDigits[3] - '0') * 10 + (nineDigits[4] - '0');
        var serial = nineDigits[5..].SequenceEqual("0000");
        return area is not (0 or 666 or >= 900) && group != 0 && !serial;
    }

    // ---- IP addresses --------------------------------------------------------------------------------------------

    private static void FindIpv4Addresses(string text, List<Candidate> candidates)
    {
        foreach (var match in Ipv4Pattern().EnumerateMatches(text))
        {
            var span = text.AsSpan(match.Index, match.Length);
            if (Ipv4OctetsAreValid(span) && !HasCue(text, match.Index, NotAnAddressCue()))
            {
                candidates.Add(new Candidate(PiiClasses.IpAddress, match.Index, match.Length, 2));
            }
        }
    }

    private static void FindIpv6Addresses(string text, List<Candidate> candidates)
    {
        foreach (var match in Ipv6Pattern().EnumerateMatches(text))
        {
            var span = text.AsSpan(match.Index, match.Length);
            var colons = span.Count(':');
            var shapeOk = span.Contains("::", StringComparison.Ordinal) ? colons <= 7 : colons == 7 || (colons == 6 && span.Contains('.'));
            if (shapeOk
                && span.ContainsAnyExcept(':')
                && IPAddress.TryParse(span, out var address)
                && address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                candidates.Add(new Candidate(PiiClasses.IpAddress, match.Index, match.Length, 2));
            }
        }
    }

    /// <summary>Four octets 0-255 without leading zeros ("010" is ambiguous and shows up in codes, not addresses).</summary>
    internal static bool Ipv4OctetsAreValid(ReadOnlySpan<char> dotted)
    {
        foreach (var range in dotted.Split('.'))
        {
            var octet = dotted[range];
            if (octet.Length is 0 or > 3 || (octet.Length > 1 && octet[0] == '0') || int.Parse(octet) > 255)
            {
                return false;
            }
        }

        return true;
    }

    // ---- phone numbers -------------------------------------------------------------------------------------------

    private static void FindPhones(string text, List<Candidate> candidates)
    {
        foreach (var match in NorthAmericanPhonePattern().Matches(text).Cast<Match>())
        {
            if (NorthAmericanPhoneIsPlausible(match))
            {
                candidates.Add(new Candidate(PiiClasses.Phone, match.Index, match.Length, 1));
            }
        }

        foreach (var match in InternationalPhonePattern().EnumerateMatches(text))
        {
            if (InternationalPhoneIsPlausible(text.AsSpan(match.Index, match.Length)))
            {
                candidates.Add(new Candidate(PiiClasses.Phone, match.Index, match.Length, 1));
            }
        }

        if (!PhoneCueWord().IsMatch(text))
        {
            return;
        }

        foreach (var match in CuedPhonePattern().EnumerateMatches(text))
        {
            var span = text.AsSpan(match.Index, match.Length);
            var digits = CountDigits(span);
            if (digits is >= MinPhoneDigits and <= MaxPhoneDigits && !LooksLikeDate(span) && !StartsWithCompactDate(span)
                && HasCue(text, match.Index, PhoneCue()) && !HasCue(text, match.Index, IdLabel()))
            {
                candidates.Add(new Candidate(PiiClasses.Phone, match.Index, match.Length, 1));
            }
        }
    }

    /// <summary>NANP: area code and exchange start with 2-9; the two separators agree unless the area code is in parentheses.</summary>
    private static bool NorthAmericanPhoneIsPlausible(Match match)
    {
        var area = match.Groups["area"].ValueSpan;
        var exchange = match.Groups["exchange"].ValueSpan;
        if (area[0] < '2' || exchange[0] < '2')
        {
            return false;
        }

        var first = match.Groups["s1"];
        return !first.Success || first.ValueSpan.SequenceEqual(match.Groups["s2"].ValueSpan);
    }

    /// <summary>"+CC …": 10-15 digits, no group longer than the whole subscriber number, country code not starting with 0.</summary>
    private static bool InternationalPhoneIsPlausible(ReadOnlySpan<char> span)
    {
        var digits = CountDigits(span);
        if (digits is < MinPhoneDigits or > MaxPhoneDigits)
        {
            return false;
        }

        // One separator style besides parentheses: "+44 20-7946.0958" is not how anyone writes a number.
        var separators = 0;
        if (span.Contains(' '))
        {
            separators++;
        }

        if (span.Contains('-'))
        {
            separators++;
        }

        if (span.Contains('.'))
        {
            separators++;
        }

        return separators <= 1 || (separators == 2 && span.Contains(' ') && span.Contains('-'));
    }

    private static bool LooksLikeDate(ReadOnlySpan<char> span) =>
        span.Length >= 8 && (span.StartsWith("19") || span.StartsWith("20")) && span.Length > 4 && span[4] is '-' or '.' or '/';

    /// <summary>"20240315…": a run that opens with a plausible yyyyMMdd is a timestamp or a dated reference, not a phone.</summary>
    private static bool StartsWithCompactDate(ReadOnlySpan<char> span)
    {
        if (span.Length < 8 || !int.TryParse(span[..8], out var value))
        {
            return false;
        }

        var (year, month, day) = (value / 10000, value / 100 % 100, value % 100);
        return year is >= 1900 and <= 2099 && month is >= 1 and <= 12 && day is >= 1 and <= 31;
    }

    private static int CountDigits(ReadOnlySpan<char> span)
    {
        var count = 0;
        foreach (var c in span)
        {
            if (char.IsAsciiDigit(c))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Whether a cue word ends within <see cref="CueWindow"/> characters before <paramref name="start"/>.</summary>
    private static bool HasCue(string text, int start, Regex cue)
    {
        var from = Math.Max(0, start - CueWindow);
        return cue.IsMatch(text.AsSpan(from, start - from));
    }

    // ---- patterns ------------------------------------------------------------------------------------------------
    // Every repetition is bounded or atomic so that no input makes a pattern backtrack exponentially (the scan runs on
    // every request, without a regex timeout).
    // Numeric candidates must not continue a longer number on either side: no word character, and no separator
    // followed by a digit ("1.2.3.4.5", "ORD-2024-000123", "9400 1000 0000 0000 0000 00").

    [GeneratedRegex(@"(?<![\w.%+'-])[A-Za-z0-9][A-Za-z0-9._%+'-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"(?<![\w/-])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,4})?(?![A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex IbanPattern();

    [GeneratedRegex(@"(?<![\w$€£¥@/.,+-]|\d[ .:-])(?:\d{4}(?<s>[ -])\d{4}\k<s>\d{4}\k<s>\d{1,4}(?:\k<s>\d{1,3})?|\d{4}(?<t>[ -])\d{6}\k<t>\d{4,5}|\d{13,19})(?![\w@%/]|[.,:/ -]\d)", RegexOptions.CultureInvariant)]
    private static partial Regex CardPattern();

    [GeneratedRegex(@"(?<![\w$€£¥#@/.,+-]|\d[ .:-])(?:\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{9})(?![\w@%/]|[.,:/ -]\d)", RegexOptions.CultureInvariant)]
    private static partial Regex SsnPattern();

    [GeneratedRegex(@"(?<![\w.-]|\d[ ,-])(?:\d{1,3}\.){3}\d{1,3}(?![\w%]|\.\d|-\d)", RegexOptions.CultureInvariant)]
    private static partial Regex Ipv4Pattern();

    [GeneratedRegex(@"(?<![\w:.-])(?:[0-9A-Fa-f]{1,4}|::?)[0-9A-Fa-f:]{0,38}:[0-9A-Fa-f:]{0,38}(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?![\w:-]|\.\w)", RegexOptions.CultureInvariant)]
    private static partial Regex Ipv6Pattern();

    [GeneratedRegex(@"(?<![\w$€£¥#@/.,+-]|\d[ .:-])(?:\+?1(?<s0>[ .-]?))?(?:\((?<area>\d{3})\)[ ]?|(?<area>\d{3})(?<s1>[ .-]))(?<exchange>\d{3})(?<s2>[ .-])\d{4}(?![\w@%/]|[.,:/ -]\d)", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex NorthAmericanPhonePattern();

    [GeneratedRegex(@"(?<![\w$€£¥#@/.,+-]|\d[ .:-])\+[1-9](?>\d{0,14})(?>(?:[ .-]?\(\d{1,4}\)(?:[ .-]?\d+)?|[ .-]\d+)*)(?![\w@%/]|[.,:/ -]\d)", RegexOptions.CultureInvariant)]
    private static partial Regex InternationalPhonePattern();

    [GeneratedRegex(@"(?<![\w$€£¥#@/.,+-]|\d[ .:-])(?:\(\d{2,5}\)[ ]?\d|\d)(?:[ .-]?\d){6,14}(?![\w@%/]|[.,:/ -]\d)", RegexOptions.CultureInvariant)]
    private static partial Regex CuedPhonePattern();

    [GeneratedRegex(@"\b(?:ssn|ss#|ss no|social security(?: number| no)?|soc\.? sec)\b\W*(?:(?:is|was|number|no|#)\W*)*$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex SsnCue();

    [GeneratedRegex(@"\b(?:phone|tel|telephone|mobile|mob|cell|cellphone|call|fax|whatsapp|sms|text|ring|landline|dial|ph)\b[^\n\d]{0,20}$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex PhoneCue();

    [GeneratedRegex(@"\b(?:phone|tel|telephone|mobile|mob|cell|cellphone|call|fax|whatsapp|sms|text|ring|landline|dial|ph)\b", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex PhoneCueWord();

    /// <summary>An id label right before a number ("call about PO 4500012345") says what the number is, whatever cue came earlier.</summary>
    [GeneratedRegex(@"\b(?:ref|reference|order|invoice|po|id|account|acct|case|ticket|claim|tracking|batch|lot|serial|sku|customer|job)\W{0,3}$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex IdLabel();

    [GeneratedRegex(@"\b(?:v|ver|version|versions|build|release|firmware|patch|update|upgrade[ds]?|sdk|package|runtime|section|chapter|clause|paragraph|figure|table|step|appendix|oid)\b[^\n]{0,24}$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex NotAnAddressCue();
}
