using System.Text.Json.Serialization;

namespace MicroApps.Orleans.Client.OpenAI;

// The wire shapes of the OpenAI chat completions API, written with source-generated serializers.
// Names follow OpenAI's JSON exactly (snake_case); nulls are written because the official SDKs expect them.
// Multi-word names are also spelled out with JsonPropertyName so the OpenAPI document shows them as sent.

public sealed record OpenAIError(string Message, string Type, string? Param, string? Code);

public sealed record OpenAIErrorResponse(OpenAIError Error);

public sealed record ChatUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

public sealed record ChatResponseMessage(string Role, string? Content, string? Refusal);

public sealed record ChatChoice(
    int Index,
    ChatResponseMessage Message,
    object? Logprobs,
    [property: JsonPropertyName("finish_reason")] string FinishReason);

public sealed record ChatCompletion(
    string Id,
    string Object,
    long Created,
    string Model,
    IReadOnlyList<ChatChoice> Choices,
    ChatUsage Usage,
    [property: JsonPropertyName("system_fingerprint")] string? SystemFingerprint);

public sealed record ChatDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);

public sealed record ChatChunkChoice(
    int Index,
    ChatDelta Delta,
    object? Logprobs,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);

public sealed record ChatCompletionChunk(
    string Id,
    string Object,
    long Created,
    string Model,
    IReadOnlyList<ChatChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChatUsage? Usage,
    [property: JsonPropertyName("system_fingerprint")] string? SystemFingerprint);

public sealed record ModelObject(string Id, string Object, long Created, [property: JsonPropertyName("owned_by")] string OwnedBy);

public sealed record ModelList(string Object, IReadOnlyList<ModelObject> Data);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(OpenAIErrorResponse))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelObject))]
internal sealed partial class OpenAIJsonContext : JsonSerializerContext;
