using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.AI;

namespace MicroApps.Orleans.Backends;

/// <summary>
/// The built-in offline model <c>local-extractive-summarizer</c>: picks the most representative
/// sentences of the user's text (scored by the frequency of their content words) and returns them in
/// their original order, within the caller's output token limit. Cheap, deterministic, needs no network.
/// </summary>
public sealed partial class LocalExtractiveSummarizer(TokenEstimator tokens, TimeProvider? time = null) : IChatClient
{
    public const string ModelName = ModelCatalogOptions.LocalModelName;

    /// <summary>Output limit when the caller sets none.</summary>
    public const int DefaultMaxOutputTokens = 256;

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was", "one", "our",
        "out", "has", "have", "his", "how", "its", "may", "new", "now", "see", "two", "who", "did", "she", "use",
        "that", "this", "with", "from", "they", "will", "would", "there", "their", "what", "about", "which",
        "when", "were", "been", "into", "than", "then", "them", "these", "those", "also", "some", "such",
        "each", "very", "just", "over", "only", "your", "more", "most", "other", "could", "should", "being",
    };

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    [GeneratedRegex(@"(?<=[.!?])\s+|\n\s*\n|\r?\n", RegexOptions.CultureInvariant)]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"\p{L}[\p{L}\p{Nd}'-]*", RegexOptions.CultureInvariant)]
    private static partial Regex Word();

    /// <summary>The summary of <paramref name="text"/>, at most <paramref name="maxOutputTokens"/> tokens.</summary>
    public (string Summary, bool Truncated) Summarize(string text, int maxOutputTokens)
    {
        var sentences = SentenceBreak().Split(text)
            .Select(s => Regex.Replace(s.Trim(), @"\s+", " "))
            .Where(s => s.Length > 0)
            .ToArray();
        if (sentences.Length == 0 || maxOutputTokens <= 0)
        {
            return ("", sentences.Length > 0);
        }

        var frequencies = new Dictionary<string, int>(StringComparer.Ordinal);
        var sentenceWords = sentences.Select(ContentWords).ToArray();
        foreach (var word in sentenceWords.SelectMany(w => w))
        {
            frequencies[word] = frequencies.GetValueOrDefault(word) + 1;
        }

        var top = frequencies.Count == 0 ? 1 : frequencies.Values.Max();

        // Normalising by length stops long sentences winning merely by being long; sqrt keeps some bias to substance.
        var ranked = Enumerable.Range(0, sentences.Length)
            .Select(i => (Index: i, Score: sentenceWords[i].Count == 0 ? 0 : sentenceWords[i].Sum(w => (double)frequencies[w] / top) / Math.Sqrt(sentenceWords[i].Count)))
            .OrderByDescending(s => s.Score)
            .ThenBy(s => s.Index)
            .ToArray();

        // About a third of the text, at least one sentence, then bounded by the token limit.
        var wanted = Math.Max(1, (int)Math.Ceiling(sentences.Length / 3.0));
        var chosen = new List<int>();
        var used = 0;
        var truncated = false;
        foreach (var (index, _) in ranked)
        {
            if (chosen.Count == wanted)
            {
                break;
            }

            var cost = tokens.CountText((chosen.Count == 0 ? "" : " ") + sentences[index]);
            if (used + cost > maxOutputTokens)
            {
                truncated = true;
                continue;
            }

            chosen.Add(index);
            used += cost;
        }

        if (chosen.Count == 0)
        {
            // Even the best sentence is over the limit: cut it at a word boundary.
            return (CutToTokens(sentences[ranked[0].Index], maxOutputTokens), true);
        }

        chosen.Sort();
        return (string.Join(" ", chosen.Select(i => sentences[i])), truncated);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (summary, truncated, usage) = Run(messages, options);
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, summary))
        {
            ModelId = ModelName,
            ResponseId = Guid.NewGuid().ToString("N"),
            CreatedAt = _time.GetUtcNow(),
            FinishReason = truncated ? ChatFinishReason.Length : ChatFinishReason.Stop,
            Usage = usage,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (summary, truncated, usage) = Run(messages, options);
        var responseId = Guid.NewGuid().ToString("N");
        var created = _time.GetUtcNow();
        var pieces = Word().Matches(summary).Count == 0 ? [summary] : SplitKeepingSpaces(summary);
        foreach (var piece in pieces)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatResponseUpdate(ChatRole.Assistant, piece) { ModelId = ModelName, ResponseId = responseId, CreatedAt = created };
        }

        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)])
        {
            ModelId = ModelName,
            ResponseId = responseId,
            CreatedAt = created,
            FinishReason = truncated ? ChatFinishReason.Length : ChatFinishReason.Stop,
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("local", null, ModelName)
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }

    private (string Summary, bool Truncated, UsageDetails Usage) Run(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var list = messages.ToList();
        var userText = string.Join("\n\n", list.Where(m => m.Role == ChatRole.User).Select(m => m.Text));
        var (summary, truncated) = Summarize(userText, options?.MaxOutputTokens ?? DefaultMaxOutputTokens);
        var input = tokens.CountMessages(list.Select(m => new ChatTurn(m.Role.Value, m.Text)));
        var output = tokens.CountText(summary);
        return (summary, truncated, new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output });
    }

    private static List<string> ContentWords(string sentence) =>
        Word().Matches(sentence)
            .Select(m => m.Value.ToLowerInvariant())
            .Where(w => w.Length >= 3 && !StopWords.Contains(w))
            .ToList();

    // Sentence-sized pieces are what a reader notices; each keeps its leading space so the pieces concatenate back exactly.
    private static List<string> SplitKeepingSpaces(string summary)
    {
        var pieces = new List<string>();
        var current = new StringBuilder();
        foreach (var ch in summary)
        {
            current.Append(ch);
            if (ch is '.' or '!' or '?' or ',' or ';')
            {
                pieces.Add(current.ToString());
                current.Clear();
            }
        }

        if (current.Length > 0)
        {
            pieces.Add(current.ToString());
        }

        return pieces;
    }

    private string CutToTokens(string sentence, int maxTokens)
    {
        var words = sentence.Split(' ');
        var builder = new StringBuilder();
        foreach (var word in words)
        {
            var next = builder.Length == 0 ? word : builder + " " + word;
            if (tokens.CountText(next) > maxTokens)
            {
                break;
            }

            builder.Clear().Append(next);
        }

        return builder.ToString();
    }
}
