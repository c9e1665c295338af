namespace MicroApps.Orleans.FakeOpenAI;

/// <summary>How the fake upstream behaves.</summary>
public sealed class FakeOpenAIOptions
{
    /// <summary>Model ids listed by <c>GET /v1/models</c>.</summary>
    public IReadOnlyList<string> Models { get; init; } = ["gpt-4o-mini", "gpt-4o"];

    /// <summary>Fixed delay before each chat completion answers (zero: none).</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.Zero;

    /// <summary>Longest reply, in words, when the request sets no <c>max_tokens</c>.</summary>
    public int DefaultMaxWords { get; init; } = 256;

    /// <summary>When set, requests must carry <c>Authorization: Bearer {RequiredApiKey}</c> or get 401.</summary>
    public string? RequiredApiKey { get; init; }
}
