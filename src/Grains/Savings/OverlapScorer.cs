using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MicroApps.Orleans.Savings;

/// <summary>
/// Scores without a model: exact label match for <c>classify</c>; agreement of the JSON structure (every leaf path
/// and its value) for <c>extract</c>; token-set F1 for <c>summarise</c>, <c>chat</c>, <c>code</c> and anything else.
/// Cheap and deterministic; it rewards saying the same thing in the same words, so it is stricter than a judge on
/// paraphrases — the quality it reports for free text is a lower bound.
/// </summary>
public sealed class OverlapScorer : IShadowScorer
{
    public const string ScorerName = "overlap";

    public string Name => ScorerName;

    public Task<double?> ScoreAsync(ShadowComparison comparison, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        return Task.FromResult<double?>(Score(comparison.QueryType, comparison.ReferenceAnswer, comparison.CandidateAnswer));
    }

    /// <summary>The candidate's agreement with the reference for a query type, 0 to 1.</summary>
    public static double Score(string? queryType, string reference, string candidate) => QueryTypes.Parse(queryType) switch
    {
        QueryTypes.Classify => LabelMatch(reference, candidate),
        QueryTypes.Extract => StructureAgreement(reference, candidate),
        _ => TokenF1(reference, candidate),
    };

    /// <summary>1 when both answers name the same label (case, surrounding punctuation and spacing ignored), else 0.</summary>
    public static double LabelMatch(string reference, string candidate) =>
        string.Equals(Label(reference), Label(candidate), StringComparison.Ordinal) ? 1d : 0d;

    /// <summary>F1 of the two answers' sets of lower-case words (letters and digits); 1 when both are empty.</summary>
    public static double TokenF1(string reference, string candidate)
    {
        var r = Tokens(reference);
        var c = Tokens(candidate);
        if (r.Count == 0 || c.Count == 0)
        {
            return r.Count == c.Count ? 1d : 0d;
        }

        var common = c.Count(r.Contains);
        if (common == 0)
        {
            return 0d;
        }

        var precision = (double)common / c.Count;
        var recall = (double)common / r.Count;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>
    /// Share of leaf paths (in either answer's JSON) on which both answers hold the same value. A reference that is
    /// not JSON falls back to <see cref="TokenF1"/>; a candidate that is not JSON when the reference is scores 0.
    /// </summary>
    public static double StructureAgreement(string reference, string candidate)
    {
        var r = Leaves(reference);
        if (r is null)
        {
            return TokenF1(reference, candidate);
        }

        var c = Leaves(candidate);
        if (c is null)
        {
            return 0d;
        }

        var paths = new HashSet<string>(r.Keys, StringComparer.Ordinal);
        paths.UnionWith(c.Keys);
        if (paths.Count == 0)
        {
            return 1d;
        }

        var agreeing = paths.Count(p => r.TryGetValue(p, out var a) && c.TryGetValue(p, out var b) && string.Equals(a, b, StringComparison.Ordinal));
        return (double)agreeing / paths.Count;
    }

    private static HashSet<string> Tokens(string text)
    {
        var tokens = new HashSet<string>(StringComparer.Ordinal);
        var word = new StringBuilder();
        foreach (var ch in text ?? "")
        {
            if (char.IsLetterOrDigit(ch))
            {
                word.Append(char.ToLowerInvariant(ch));
            }
            else if (word.Length > 0)
            {
                tokens.Add(word.ToString());
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            tokens.Add(word.ToString());
        }

        return tokens;
    }

    private static string Label(string text)
    {
        var trimmed = (text ?? "").Trim().Trim('"', '\'', '`', '.', '!', '?', ',', ';', ':', '*', ' ').ToLowerInvariant();
        return string.Join(' ', trimmed.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Leaf path → value (JSON text, numbers normalised) of the answer's JSON, or null when it holds none.</summary>
    private static Dictionary<string, string>? Leaves(string text)
    {
        var json = JsonText(text);
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var leaves = new Dictionary<string, string>(StringComparer.Ordinal);
            Flatten(document.RootElement, "$", leaves);
            return leaves;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The JSON in an answer: the whole text, or the part inside a code fence, or from the first brace to the last.</summary>
    private static string? JsonText(string text)
    {
        var t = (text ?? "").Trim();
        var fence = t.IndexOf("```", StringComparison.Ordinal);
        if (fence >= 0)
        {
            var start = t.IndexOf('\n', fence);
            var end = start < 0 ? -1 : t.IndexOf("```", start, StringComparison.Ordinal);
            if (start >= 0 && end > start)
            {
                t = t[(start + 1)..end].Trim();
            }
        }

        var open = t.IndexOfAny(['{', '[']);
        if (open < 0)
        {
            return null;
        }

        var close = t.LastIndexOf(t[open] == '{' ? '}' : ']');
        return close > open ? t[open..(close + 1)] : null;
    }

    private static void Flatten(JsonElement element, string path, Dictionary<string, string> leaves)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, $"{path}.{property.Name.Trim().ToLowerInvariant()}", leaves);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, $"{path}[{index++}]", leaves);
                }

                break;
            case JsonValueKind.String:
                leaves[path] = "s:" + string.Join(' ', element.GetString()!.Trim().ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
                break;
            case JsonValueKind.Number:
                leaves[path] = element.TryGetDecimal(out var number)
                    ? "n:" + number.ToString("G29", CultureInfo.InvariantCulture)
                    : "n:" + element.GetRawText();
                break;
            default:
                leaves[path] = element.GetRawText();
                break;
        }
    }
}
