using System.Text;
using System.Text.RegularExpressions;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Tokens;

namespace MicroApps.Orleans.Runtime;

/// <summary>
/// How a summarizer run will go, decided before anything is spent: the parts the input is split into, the combine
/// rounds after them, and the steps and tokens (estimated input plus the output cap of every call) the whole run takes.
/// </summary>
/// <param name="Parts">The input as one part (it fits one call) or several of at most the chunk size.</param>
/// <param name="InputTokens">Tokens of the whole input.</param>
/// <param name="CombineRounds">Group sizes of each combine round, first round first; empty for a single part.</param>
/// <param name="Steps">Model calls of the plan.</param>
/// <param name="EstimatedTokens">Tokens the plan may use at most (each call's estimated input plus its output cap).</param>
public sealed record SummaryPlan(
    IReadOnlyList<string> Parts,
    int InputTokens,
    IReadOnlyList<IReadOnlyList<int>> CombineRounds,
    int Steps,
    long EstimatedTokens);

/// <summary>Splits long inputs at paragraph, then sentence, then word boundaries, and plans the summarizer's calls.</summary>
public static partial class SummaryPlanner
{
    public const string CombineNote = "The text below is made of summaries of consecutive parts of one document; combine them into one summary.";

    /// <summary>The system message of a part (or of the whole input when <paramref name="count"/> is 1).</summary>
    public static string PartInstructions(string instructions, int index, int count) =>
        count == 1 ? instructions : $"{instructions}\nThis is part {index} of {count} of a longer document.";

    public static string CombineInstructions(string instructions) => $"{instructions}\n{CombineNote}";

    /// <summary>The summaries of one combine group, as the user message of its call.</summary>
    public static string JoinSummaries(IEnumerable<string> summaries) => string.Join("\n\n", summaries);

    /// <summary>
    /// Plans the run: one call when the input fits <paramref name="chunkTokens"/>; otherwise one call per part, then
    /// combine rounds of as many part summaries as fit a chunk (at least two), until one summary is left.
    /// <paramref name="promptOverhead"/> counts the tokens every call carries besides its own messages (shared prompts).
    /// </summary>
    public static SummaryPlan Plan(string text, string instructions, int chunkTokens, int maxOutputTokens, TokenEstimator tokens, int promptOverhead = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOutputTokens, 1);
        text ??= "";
        var inputTokens = tokens.CountText(text);
        if (inputTokens <= chunkTokens)
        {
            var single = Call(tokens, PartInstructions(instructions, 1, 1), text, maxOutputTokens, promptOverhead);
            return new SummaryPlan([text], inputTokens, [], 1, single);
        }

        var parts = Split(text, chunkTokens, tokens);
        long estimate = 0;
        for (var i = 0; i < parts.Count; i++)
        {
            estimate += Call(tokens, PartInstructions(instructions, i + 1, parts.Count), parts[i], maxOutputTokens, promptOverhead);
        }

        // A part summary is at most maxOutputTokens; the separators between them cost a token or two each.
        var perSummary = maxOutputTokens + 2;
        var groupSize = Math.Max(2, chunkTokens / perSummary);
        var combineSystem = CombineInstructions(instructions);
        var combineOverhead = tokens.CountMessages([new ChatTurn("system", combineSystem), new ChatTurn("user", "")]) + promptOverhead;
        var rounds = new List<IReadOnlyList<int>>();
        var steps = parts.Count;
        for (var left = parts.Count; left > 1;)
        {
            var groups = new List<int>();
            for (var remaining = left; remaining > 0; remaining -= groupSize)
            {
                groups.Add(Math.Min(groupSize, remaining));
            }

            rounds.Add(groups);
            steps += groups.Count;
            estimate += groups.Sum(g => (long)combineOverhead + (long)g * perSummary + maxOutputTokens);
            left = groups.Count;
        }

        return new SummaryPlan(parts, inputTokens, rounds, steps, estimate);
    }

    /// <summary>Parts of at most <paramref name="chunkTokens"/> tokens, cut at paragraphs, else sentences, else words.</summary>
    public static IReadOnlyList<string> Split(string text, int chunkTokens, TokenEstimator tokens)
    {
        var pieces = new List<(string Text, int Tokens, string Separator)>();
        foreach (var paragraph in Paragraphs().Split(text.Trim()).Where(p => p.Trim().Length > 0))
        {
            Explode(paragraph.Trim(), "\n\n", chunkTokens, tokens, pieces);
        }

        var parts = new List<string>();
        var current = new StringBuilder();
        var currentTokens = 0;
        foreach (var (piece, count, separator) in pieces)
        {
            // A separator is one or two tokens; counting 2 keeps every part within the chunk.
            if (current.Length > 0 && currentTokens + 2 + count > chunkTokens)
            {
                parts.Add(current.ToString());
                current.Clear();
                currentTokens = 0;
            }

            if (current.Length > 0)
            {
                current.Append(separator);
                currentTokens += 2;
            }

            current.Append(piece);
            currentTokens += count;
        }

        if (current.Length > 0)
        {
            parts.Add(current.ToString());
        }

        return parts;
    }

    private static void Explode(string paragraph, string separator, int chunkTokens, TokenEstimator tokens, List<(string, int, string)> pieces)
    {
        var count = tokens.CountText(paragraph);
        if (count <= chunkTokens)
        {
            pieces.Add((paragraph, count, separator));
            return;
        }

        var first = true;
        foreach (var sentence in Sentences().Split(paragraph).Where(s => s.Trim().Length > 0))
        {
            var trimmed = sentence.Trim();
            var sentenceTokens = tokens.CountText(trimmed);
            var join = first ? separator : " ";
            first = false;
            if (sentenceTokens <= chunkTokens)
            {
                pieces.Add((trimmed, sentenceTokens, join));
                continue;
            }

            // A sentence longer than a chunk is cut between words; a word longer than a chunk is cut into characters.
            foreach (var word in trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var wordTokens = tokens.CountText(word);
                if (wordTokens <= chunkTokens)
                {
                    pieces.Add((word, wordTokens, join));
                }
                else
                {
                    var size = Math.Max(1, word.Length * chunkTokens / (wordTokens + 1));
                    for (var i = 0; i < word.Length; i += size)
                    {
                        var slice = word.Substring(i, Math.Min(size, word.Length - i));
                        pieces.Add((slice, tokens.CountText(slice), join));
                        join = "";
                    }
                }

                join = " ";
            }
        }
    }

    private static long Call(TokenEstimator tokens, string system, string user, int maxOutputTokens, int promptOverhead) =>
        tokens.CountMessages([new ChatTurn("system", system), new ChatTurn("user", user)]) + promptOverhead + maxOutputTokens;

    [GeneratedRegex(@"\r?\n\s*\r?\n")]
    private static partial Regex Paragraphs();

    [GeneratedRegex(@"(?<=[.!?…])\s+")]
    private static partial Regex Sentences();
}
