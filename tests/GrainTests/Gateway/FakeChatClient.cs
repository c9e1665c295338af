using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace MicroApps.Orleans.GrainTests.Gateway;

/// <summary>
/// A chat backend for the pipeline tests. By model name: <c>fake-broken*</c> always throws;
/// <c>fake-slow</c> streams one piece and then waits until the caller cancels; anything else answers
/// <c>echo: {last user message}</c> and reports 40 input and 10 output tokens.
/// </summary>
public sealed class FakeChatClient : IChatClient
{
    public const int ReportedInputTokens = 40;
    public const int ReportedOutputTokens = 10;

    private readonly ConcurrentDictionary<string, int> _calls = new();

    /// <summary>Options of every call, newest last, keyed by the last user message so parallel tests do not mix.</summary>
    public ConcurrentDictionary<string, ChatOptions?> OptionsByPrompt { get; } = new();

    /// <summary>Set when a <c>fake-slow</c> stream saw its caller cancel.</summary>
    public ConcurrentDictionary<string, bool> CancelledPrompts { get; } = new();

    public int CallsTo(string prompt) => _calls.GetValueOrDefault(prompt);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var prompt = Record(messages, options);
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, Answer(prompt)))
        {
            ModelId = options?.ModelId,
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = ReportedInputTokens, OutputTokenCount = ReportedOutputTokens },
        });
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prompt = Record(messages, options);
        if (options?.ModelId == "fake-slow")
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, "first piece");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                CancelledPrompts[prompt] = cancellationToken.IsCancellationRequested;
            }
        }

        foreach (var word in Answer(prompt).Split(' '))
        {
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, word + " ");
        }

        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails { InputTokenCount = ReportedInputTokens, OutputTokenCount = ReportedOutputTokens })])
        {
            FinishReason = ChatFinishReason.Stop,
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private static string Answer(string prompt) => $"echo: {prompt}";

    private string Record(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var prompt = messages.Last(m => m.Role == ChatRole.User).Text;
        _calls.AddOrUpdate(prompt, 1, (_, n) => n + 1);
        OptionsByPrompt[prompt] = options;
        if (options?.ModelId?.StartsWith("fake-broken", StringComparison.Ordinal) == true)
        {
            throw new HttpRequestException($"{options.ModelId} is down");
        }

        return prompt;
    }
}
