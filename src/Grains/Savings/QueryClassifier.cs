using System.Text.RegularExpressions;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Savings;

/// <summary>
/// Puts a call into one of the <see cref="QueryTypes"/>. The app's declared task wins (<see cref="SavingsSettings.Task"/>);
/// otherwise a cheap keyword and structure classifier reads the system messages and the last user message: it runs on
/// every call, so it is a handful of compiled patterns, no model. What the user asks for (the verbs: "summarise",
/// "classify", "extract", "write a function") weighs more than what the text contains (code, JSON), so "summarise this
/// code" is a summary. A request with no signal is <see cref="QueryTypes.Chat"/>.
/// </summary>
public sealed partial class QueryClassifier
{
    public static QueryClassifier Default { get; } = new();

    // Weight of a signal in the last user message vs. in a system message: the system prompt of a template often
    // describes the app in general terms, the last user turn says what is wanted now.
    private const int UserWeight = 2;
    private const int SystemWeight = 1;

    private static readonly (string Type, Regex Pattern, int Weight)[] Signals =
    [
        (QueryTypes.Summarise, SummariseIntent(), 4),
        (QueryTypes.Summarise, SummariseHint(), 1),
        (QueryTypes.Classify, ClassifyIntent(), 4),
        (QueryTypes.Classify, ClassifyHint(), 1),
        (QueryTypes.Extract, ExtractIntent(), 4),
        (QueryTypes.Extract, ExtractHint(), 1),
        (QueryTypes.Code, CodeIntent(), 4),
        (QueryTypes.Code, CodeStructure(), 2),
        (QueryTypes.Code, CodeHint(), 1),
    ];

    // Ties go to the more specific task; chat is what is left.
    private static readonly string[] TieOrder = [QueryTypes.Summarise, QueryTypes.Extract, QueryTypes.Classify, QueryTypes.Code];

    /// <summary>The query type of a call of <paramref name="declaredTask"/>'s app with these messages.</summary>
    public string Classify(string? declaredTask, IReadOnlyList<ChatTurn> messages)
    {
        if (QueryTypes.Parse(declaredTask) is { } declared)
        {
            return declared;
        }

        var scores = new Dictionary<string, int>(StringComparer.Ordinal);
        var lastUser = LastUser(messages);
        foreach (var turn in messages)
        {
            var weight = ReferenceEquals(turn, lastUser) ? UserWeight
                : string.Equals(turn.Role, "system", StringComparison.OrdinalIgnoreCase) || string.Equals(turn.Role, "developer", StringComparison.OrdinalIgnoreCase) ? SystemWeight
                : 0;
            if (weight == 0 || string.IsNullOrEmpty(turn.Content))
            {
                continue;
            }

            // Long pasted documents carry their own vocabulary; the instruction is nearly always in the first and
            // last few hundred characters, and bounding the text keeps the classifier's cost flat.
            var text = turn.Content.Length <= 4_000 ? turn.Content : string.Concat(turn.Content.AsSpan(0, 2_000), "\n", turn.Content.AsSpan(turn.Content.Length - 2_000));
            foreach (var (type, pattern, signalWeight) in Signals)
            {
                if (pattern.IsMatch(text))
                {
                    scores[type] = scores.GetValueOrDefault(type) + signalWeight * weight;
                }
            }
        }

        var best = QueryTypes.Chat;
        var bestScore = 0;
        foreach (var type in TieOrder)
        {
            if (scores.GetValueOrDefault(type) is var score && score > bestScore)
            {
                (best, bestScore) = (type, score);
            }
        }

        return best;
    }

    private static ChatTurn? LastUser(IReadOnlyList<ChatTurn> messages)
    {
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (string.Equals(messages[i].Role, "user", StringComparison.OrdinalIgnoreCase))
            {
                return messages[i];
            }
        }

        return null;
    }

    [GeneratedRegex(@"\b(summari[sz]e|summari[sz]ing|summary|summaries|tl;?dr|condense|recap|key (points|takeaways)|in (one|a few|two|three) (sentence|sentences|lines|bullet points)|(give|write) (me )?(a |an )?(short |brief )?(overview|synopsis|abstract|gist)|main points|boil (it|this) down)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SummariseIntent();

    [GeneratedRegex(@"\b(shorten|briefly|brief|concise(ly)?|gist|digest|executive)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SummariseHint();

    [GeneratedRegex(@"\b(classify|classification|categori[sz]e|categori[sz]ation|which category|what category|tag (this|each|the)|label (this|each|the|it)|sentiment|is (this|it)( an?)?( \w+)? (spam|phishing|positive|negative|urgent)|positive,? (or )?negative|route (this|the) (ticket|email|message)|triage|(answer|respond|reply) with (only )?(one|a single) (word|label|of))\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ClassifyIntent();

    [GeneratedRegex(@"\b(category|categories|label|labels|intent|priority|one of[: ]|choose (one|from)|yes or no)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ClassifyHint();

    [GeneratedRegex(@"\b(extract|pull out|find (all|every)|list (all|every) (the )?(names|dates|amounts|emails|entities|people|companies|items|fields)|parse (this|the)|fill (in )?(the|this) (form|fields|schema)|(what|which) (is|are) the (invoice|order|account|reference|tracking|policy) (number|id|date|total)|as json|into json|json (object|with)|return (a )?json|named entities|key[- ]value)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ExtractIntent();

    [GeneratedRegex(@"\b(fields?|entities|schema|invoice|dates?|amounts?|addresses|phone numbers|structured)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ExtractHint();

    [GeneratedRegex(@"\b(write (a |an |the )?(\w+ )?(function|method|class|script|program|query|regex|unit tests?|code)|implement|refactor|debug|fix (this|the|my) (bug|code|error|function|test)|code review|compile[sd]?|stack ?trace|(sql|linq) query|regular expression|in (python|javascript|typescript|c#|java|go|rust|bash|sql|c\+\+)|convert (this|the) (code|function|script))\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CodeIntent();

    [GeneratedRegex(@"```|^\s*(def |class |public |private |import |from \S+ import|using [A-Z]|function |const |let |var |#include|SELECT |INSERT |UPDATE |package |fn |func )|[;{]\s*$|=>|Exception\b|Traceback \(most recent call last\)", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex CodeStructure();

    [GeneratedRegex(@"\b(python|javascript|typescript|c#|java|golang|rust|sql|api|endpoint|null reference|syntax error|variable|loop|array|compiler|exception)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CodeHint();
}
