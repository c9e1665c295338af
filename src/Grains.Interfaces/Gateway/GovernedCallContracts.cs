namespace MicroApps.Orleans.Gateway;

/// <summary>One chat message.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ChatTurn")]
public sealed record ChatTurn(
    [property: Id(0)] string Role,
    [property: Id(1)] string Content);

/// <summary>Sampling parameters a caller may set; null means the model's default.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ChatParameters")]
public sealed record ChatParameters(
    [property: Id(0)] float? Temperature,
    [property: Id(1)] float? TopP,
    [property: Id(2)] int? MaxTokens,
    [property: Id(3)] IReadOnlyList<string>? Stop,
    [property: Id(4)] string? User)
{
    public static ChatParameters None { get; } = new(null, null, null, null, null);
}

/// <summary>A model call as a micro app asks for it, through HTTP or the Orleans client.</summary>
/// <param name="ApiKey">The app key (<c>mak.{appId}.{keyId}.{secret}</c>).</param>
/// <param name="RequestId">Caller's request id; retries with the same id are charged once.</param>
/// <param name="Model">A model name, a tier name, or <c>auto</c> for the app's default tier.</param>
/// <param name="Messages">The conversation, at least one message.</param>
/// <param name="Parameters">Sampling parameters.</param>
[GenerateSerializer, Immutable, Alias("microapps.GovernedChatRequest")]
public sealed record GovernedChatRequest(
    [property: Id(0)] string ApiKey,
    [property: Id(1)] string RequestId,
    [property: Id(2)] string Model,
    [property: Id(3)] IReadOnlyList<ChatTurn> Messages,
    [property: Id(4)] ChatParameters Parameters);

/// <summary>How a governed call ended. The front door maps each to an HTTP status.</summary>
public enum GovernedOutcome
{
    /// <summary>The model answered (200).</summary>
    Completed = 0,

    /// <summary>Served from the cache at no cost (200).</summary>
    CacheHit = 1,

    /// <summary>The request is malformed; <see cref="GovernedChatResult.ErrorParam"/> names the field (400).</summary>
    InvalidRequest = 2,

    /// <summary>No configured model or tier has the requested name (400, param <c>model</c>).</summary>
    UnknownModel = 3,

    /// <summary>Unknown, malformed or revoked key (401).</summary>
    Unauthorized = 4,

    /// <summary>The app may not make this call: suspended, or the model's tier is not allowed (403).</summary>
    Forbidden = 5,

    /// <summary>A quota was hit (429 with Retry-After).</summary>
    QuotaExceeded = 6,

    /// <summary>The budget cannot cover the estimate (429 with Retry-After).</summary>
    BudgetExceeded = 7,

    /// <summary>Every model of the tier failed (502).</summary>
    BackendFailed = 8,
}

/// <summary>Token usage of one call.</summary>
[GenerateSerializer, Immutable, Alias("microapps.TokenUsage")]
public sealed record TokenUsage(
    [property: Id(0)] int InputTokens,
    [property: Id(1)] int OutputTokens)
{
    public int TotalTokens => InputTokens + OutputTokens;

    public static TokenUsage Zero { get; } = new(0, 0);
}

/// <summary>The answer of a governed call, successful or not.</summary>
[GenerateSerializer, Immutable, Alias("microapps.GovernedChatResult")]
public sealed record GovernedChatResult(
    [property: Id(0)] GovernedOutcome Outcome,
    [property: Id(1)] string RequestId,
    [property: Id(2)] string? ErrorCode,
    [property: Id(3)] string? ErrorMessage,
    [property: Id(4)] string? ErrorParam,
    [property: Id(5)] TimeSpan? RetryAfter,
    [property: Id(6)] string Model,
    [property: Id(7)] string Tier,
    [property: Id(8)] string Content,
    [property: Id(9)] string FinishReason,
    [property: Id(10)] TokenUsage Usage,
    [property: Id(11)] decimal CostUsd,
    [property: Id(12)] DateTimeOffset Created)
{
    public bool IsSuccess => Outcome is GovernedOutcome.Completed or GovernedOutcome.CacheHit;

    public static GovernedChatResult Failure(GovernedOutcome outcome, string requestId, string code, string message, string? param = null, TimeSpan? retryAfter = null) =>
        new(outcome, requestId, code, message, param, retryAfter, "", "", "", "", TokenUsage.Zero, 0m, DateTimeOffset.UtcNow);
}

/// <summary>
/// One element of a streamed governed call. Deltas carry text with the model and tier producing it;
/// the last element carries <see cref="Final"/>, the whole result with usage and cost. A call refused
/// before the model ran yields only a final element with the failure.
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.GovernedChatChunk")]
public sealed record GovernedChatChunk(
    [property: Id(0)] string? Delta,
    [property: Id(1)] GovernedChatResult? Final,
    [property: Id(2)] string? Model = null,
    [property: Id(3)] string? Tier = null);

/// <summary>A model an app may use, for <c>GET /v1/models</c>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.AvailableModel")]
public sealed record AvailableModel(
    [property: Id(0)] string Name,
    [property: Id(1)] string Tier,
    [property: Id(2)] bool External,
    [property: Id(3)] decimal InputPricePer1K,
    [property: Id(4)] decimal OutputPricePer1K);

/// <summary>Answer to <see cref="IGovernedCallGrain.ListModelsAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ModelListing")]
public sealed record ModelListing(
    [property: Id(0)] GovernedOutcome Outcome,
    [property: Id(1)] string? ErrorMessage,
    [property: Id(2)] IReadOnlyList<AvailableModel> Models);

/// <summary>
/// The governed model call (stateless worker, key 0): key → app → quota → budget reserve → cache →
/// tier and model → backend → settle → trace event. HTTP callers and .NET callers get the same governance.
/// </summary>
public interface IGovernedCallGrain : IGrainWithIntegerKey
{
    Task<GovernedChatResult> CompleteAsync(GovernedChatRequest request);

    IAsyncEnumerable<GovernedChatChunk> StreamAsync(GovernedChatRequest request);

    Task<ModelListing> ListModelsAsync(string apiKey);
}
