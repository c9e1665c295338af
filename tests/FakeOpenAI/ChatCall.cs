using System.Text;
using System.Text.Json;

namespace MicroApps.Orleans.FakeOpenAI;

/// <summary>The parts of a chat request the fake acts on, and its deterministic answer.</summary>
internal sealed class ChatCall
{
    /// <summary>Tokens counted per message on top of its words, as chat formats add a few per message.</summary>
    public const int TokensPerMessage = 3;

    public string Model { get; private init; } = "gpt-4o-mini";

    public bool Stream { get; private init; }

    public bool IncludeUsage { get; private init; }

    public string Reply { get; private init; } = "";

    public string FinishReason { get; private init; } = "stop";

    public int PromptTokens { get; private init; }

    public int CompletionTokens { get; private init; }

    /// <summary>
    /// Reply: the words of the last user message, at most max_tokens (or max_completion_tokens) of them;
    /// "ok" when there is none. Prompt tokens: every message's words plus <see cref="TokensPerMessage"/>.
    /// </summary>
    public static ChatCall Read(JsonElement root, int defaultMaxWords)
    {
        var model = "gpt-4o-mini";
        var stream = false;
        var includeUsage = false;
        var maxWords = defaultMaxWords;
        var promptTokens = 0;
        string? lastUser = null;

        if (root.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in root.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case "model" when value.ValueKind == JsonValueKind.String:
                        model = value.GetString()!;
                        break;
                    case "stream" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                        stream = value.GetBoolean();
                        break;
                    case "stream_options" when value.ValueKind == JsonValueKind.Object:
                        includeUsage = value.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;
                        break;
                    case "max_tokens" or "max_completion_tokens" when value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var max) && max > 0:
                        maxWords = max;
                        break;
                    case "messages" when value.ValueKind == JsonValueKind.Array:
                        foreach (var message in value.EnumerateArray())
                        {
                            var text = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content)
                                ? TextOf(content)
                                : "";
                            promptTokens += CountWords(text) + TokensPerMessage;
                            if (message.ValueKind == JsonValueKind.Object
                                && message.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String && role.ValueEquals("user"))
                            {
                                lastUser = text;
                            }
                        }

                        break;
                }
            }
        }

        var (reply, words, truncated) = Truncate(lastUser, maxWords);
        return new ChatCall
        {
            Model = model,
            Stream = stream,
            IncludeUsage = includeUsage,
            Reply = reply,
            FinishReason = truncated ? "length" : "stop",
            PromptTokens = promptTokens,
            CompletionTokens = words,
        };
    }

    private static (string Reply, int Words, bool Truncated) Truncate(string? text, int maxWords)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return ("ok", 1, false);
        }

        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var take = Math.Min(words.Length, maxWords);
        return (string.Join(' ', words, 0, take), take, take < words.Length);
    }

    private static string TextOf(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString()!;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var builder = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                builder.Append(text.GetString());
            }
        }

        return builder.ToString();
    }

    private static int CountWords(string text)
    {
        var count = 0;
        var inWord = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                inWord = false;
            }
            else if (!inWord)
            {
                inWord = true;
                count++;
            }
        }

        return count;
    }
}
