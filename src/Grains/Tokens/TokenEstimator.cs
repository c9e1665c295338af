using MicroApps.Orleans.Gateway;
using Microsoft.ML.Tokenizers;

namespace MicroApps.Orleans.Tokens;

/// <summary>
/// Counts tokens with the o200k_base encoding (GPT-4o family) and OpenAI's chat framing, so
/// estimates made before a call match what an OpenAI-compatible backend bills closely.
/// Thread-safe; one instance serves a whole silo.
/// </summary>
public sealed class TokenEstimator
{
    /// <summary>Framing tokens OpenAI adds around every message (<c>&lt;|start|&gt;{role}\n … &lt;|end|&gt;</c>).</summary>
    public const int TokensPerMessage = 3;

    /// <summary>Tokens that prime the assistant's reply (<c>&lt;|start|&gt;assistant&lt;|message|&gt;</c>).</summary>
    public const int ReplyPrimingTokens = 3;

    // Loading the BPE ranks takes ~100 ms and a few MB, so the tokenizer is built once per process.
    private static readonly Lazy<Tokenizer> SharedTokenizer =
        new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"), LazyThreadSafetyMode.ExecutionAndPublication);

    public static TokenEstimator Default { get; } = new();

    /// <summary>Tokens of a plain text, without any message framing.</summary>
    public int CountText(string? text) => string.IsNullOrEmpty(text) ? 0 : SharedTokenizer.Value.CountTokens(text);

    /// <summary>Prompt tokens of a conversation as an OpenAI chat model counts them.</summary>
    public int CountMessages(IEnumerable<ChatTurn> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var total = ReplyPrimingTokens;
        foreach (var message in messages)
        {
            total += TokensPerMessage + CountText(message.Role) + CountText(message.Content);
        }

        return total;
    }
}
