using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Embeddings;

/// <summary>
/// One governed embeddings request (what <c>POST /v1/embeddings</c> carries).
/// </summary>
/// <param name="ApiKey">The app key, <c>mak.{appId}.{keyId}.{secret}</c>.</param>
/// <param name="RequestId">The caller's request id (budget reservation <c>{appId}/{RequestId}</c>); empty for a new one.</param>
/// <param name="Model">An embedding model named in <c>Models:Embeddings:Models</c>.</param>
/// <param name="Inputs">The texts to embed, in order; each must be non-empty.</param>
/// <param name="Dimensions">Requested vector length (models that can shorten their vectors); null for the model's own.</param>
/// <param name="PublicContent">
/// The caller marked the content public (<c>X-MicroApps-Content: public</c>): inputs in which the PII scan finds nothing
/// are cached in the shared scope, so other apps embedding the same text are served from it. Inputs with PII stay per app.
/// </param>
/// <param name="User">OpenAI's <c>user</c> field; recorded nowhere but passed for parity with chat.</param>
[GenerateSerializer, Immutable, Alias("microapps.GovernedEmbeddingRequest")]
public sealed record GovernedEmbeddingRequest(
    [property: Id(0)] string ApiKey,
    [property: Id(1)] string RequestId,
    [property: Id(2)] string Model,
    [property: Id(3)] IReadOnlyList<string> Inputs,
    [property: Id(4)] int? Dimensions = null,
    [property: Id(5)] bool PublicContent = false,
    [property: Id(6)] string? User = null);

/// <summary>
/// The answer to a <see cref="GovernedEmbeddingRequest"/>: the vectors in input order, or the refusal.
/// </summary>
/// <param name="RequestId">The request id the call ran under (the caller's, or a new one).</param>
/// <param name="Model">The embedding model that made the vectors.</param>
/// <param name="Outcome"><see cref="GovernedOutcome.Completed"/>, <see cref="GovernedOutcome.CacheHit"/> (every input from the cache) or the refusal.</param>
/// <param name="Vectors">One vector per input, in input order; empty for a refusal.</param>
/// <param name="PromptTokens">Tokens sent to the backend and charged (0 when every input came from the cache).</param>
/// <param name="CostUsd">What was charged to the app's budget.</param>
/// <param name="CachedInputs">How many inputs were served from the embedding cache.</param>
/// <param name="ErrorCode">Machine-readable refusal code (for example <c>budget_exceeded</c>, <c>backend_failed</c>).</param>
/// <param name="ErrorMessage">Why the call was refused or failed.</param>
/// <param name="RetryAfter">For quota and budget refusals: when a retry may succeed.</param>
/// <param name="ErrorParam">For <see cref="GovernedOutcome.InvalidRequest"/>: the field that is wrong (<c>input</c>, <c>model</c>, <c>dimensions</c>…).</param>
[GenerateSerializer, Immutable, Alias("microapps.GovernedEmbeddingResult")]
public sealed record GovernedEmbeddingResult(
    [property: Id(0)] GovernedOutcome Outcome,
    [property: Id(1)] string RequestId,
    [property: Id(2)] string Model,
    [property: Id(3)] IReadOnlyList<float[]> Vectors,
    [property: Id(4)] int PromptTokens,
    [property: Id(5)] decimal CostUsd,
    [property: Id(6)] int CachedInputs,
    [property: Id(7)] string? ErrorCode = null,
    [property: Id(8)] string? ErrorMessage = null,
    [property: Id(9)] string? ErrorParam = null,
    [property: Id(10)] TimeSpan? RetryAfter = null)
{
    public bool IsSuccess => Outcome is GovernedOutcome.Completed or GovernedOutcome.CacheHit;

    /// <summary>A refusal or failure with its code and message.</summary>
    public static GovernedEmbeddingResult Failure(GovernedOutcome outcome, string requestId, string code, string message, string? param = null, TimeSpan? retryAfter = null) =>
        new(outcome, requestId, "", [], 0, 0m, 0, code, message, param, retryAfter);
}

/// <summary>Limits of an embeddings request, shared by the front door and the gateway grain.</summary>
public static class EmbeddingRequestRules
{
    /// <summary>Most inputs in one request (OpenAI's limit).</summary>
    public const int MaxInputs = 2048;

    /// <summary>The only value of <see cref="ContentHeader"/> that is accepted: shared caching for PII-free inputs.</summary>
    public const string PublicContent = "public";

    /// <summary>The header marking a request's content public.</summary>
    public const string ContentHeader = "X-MicroApps-Content";
}

/// <summary>
/// The governed embeddings call: authenticates and admits through the app grain, scans inputs for PII, serves what it
/// can from the embedding cache, reserves and settles the rest on the app's budget, batches misses per silo and writes
/// one trace event. A stateless worker: it holds nothing between calls.
/// </summary>
public interface IEmbeddingGatewayGrain : IGrainWithIntegerKey
{
    /// <summary>Embeds the request's inputs under the app's governance; refusals are results, never exceptions.</summary>
    Task<GovernedEmbeddingResult> EmbedAsync(GovernedEmbeddingRequest request);
}

/// <summary>One cached embedding lookup: the scope (an app id, or <c>public</c>) and the key of (model, dimensions, text).</summary>
[GenerateSerializer, Immutable, Alias("microapps.EmbeddingCacheKey")]
public sealed record EmbeddingCacheKey(
    [property: Id(0)] string Scope,
    [property: Id(1)] string Key);

/// <summary>An embedding to store under a <see cref="EmbeddingCacheKey"/>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.EmbeddingCacheEntry")]
public sealed record EmbeddingCacheEntry(
    [property: Id(0)] EmbeddingCacheKey Key,
    [property: Id(1)] float[] Vector);

/// <summary>Counters of one embedding cache shard.</summary>
[GenerateSerializer, Immutable, Alias("microapps.EmbeddingCacheStats")]
public sealed record EmbeddingCacheStats(
    [property: Id(0)] long Shard,
    [property: Id(1)] int Entries,
    [property: Id(2)] long Hits,
    [property: Id(3)] long Misses,
    [property: Id(4)] long Evictions);

/// <summary>
/// One shard of the embedding cache (key: shard number, from the hash of the entry key). Entries are scoped: a lookup
/// in one scope never reaches another scope's entry. Memory only, bounded and expiring.
/// </summary>
public interface IEmbeddingCacheShardGrain : IGrainWithIntegerKey
{
    /// <summary>The cached vector of each key, in order; null where there is none.</summary>
    Task<float[]?[]> GetManyAsync(IReadOnlyList<EmbeddingCacheKey> keys);

    /// <summary>Stores the entries for <paramref name="ttl"/>.</summary>
    Task PutManyAsync(IReadOnlyList<EmbeddingCacheEntry> entries, TimeSpan ttl);

    [ReadOnly]
    Task<EmbeddingCacheStats> GetStatsAsync();
}
