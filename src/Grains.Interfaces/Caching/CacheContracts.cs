namespace MicroApps.Orleans.Caching;

/// <summary>A completion kept for reuse.</summary>
[GenerateSerializer, Immutable, Alias("microapps.CachedCompletion")]
public sealed record CachedCompletion(
    [property: Id(0)] string Model,
    [property: Id(1)] string Tier,
    [property: Id(2)] string Content,
    [property: Id(3)] string FinishReason,
    [property: Id(4)] int InputTokens,
    [property: Id(5)] int OutputTokens,
    [property: Id(6)] DateTimeOffset CreatedAt);

/// <summary>Counters of one shard.</summary>
[GenerateSerializer, Immutable, Alias("microapps.CacheShardStats")]
public sealed record CacheShardStats(
    [property: Id(0)] long ShardId,
    [property: Id(1)] int Entries,
    [property: Id(2)] long Hits,
    [property: Id(3)] long Misses,
    [property: Id(4)] long Evictions,
    [property: Id(5)] long SingleFlightJoins = 0);

/// <summary>
/// One shard of the exact-match response cache (key: shard number = hash of cache key mod N).
/// Every entry carries the scope (app id) it was made in; a lookup from another scope never sees it.
/// </summary>
public interface ICacheShardGrain : IGrainWithIntegerKey
{
    /// <summary>The live entry for <paramref name="cacheKey"/> made in <paramref name="scope"/>, or null.</summary>
    Task<CachedCompletion?> GetAsync(string cacheKey, string scope);

    /// <summary>
    /// Stores an entry for <paramref name="ttl"/>; the shard evicts its oldest entries past its size bound. Callers waiting
    /// on an identical call in flight (<see cref="GetOrJoinAsync"/>) get this answer.
    /// </summary>
    [OneWay]
    Task PutAsync(string cacheKey, string scope, CachedCompletion completion, TimeSpan ttl);

    /// <summary>
    /// Single-flight lookup: the live entry if there is one; else, when an identical call (same key and scope) is in
    /// flight, waits up to <paramref name="wait"/> for its answer; else makes <paramref name="requestId"/> the flight's
    /// leader. A leader ends its flight with <see cref="PutAsync"/> or <see cref="AbandonAsync"/>; a flight older than
    /// <paramref name="wait"/> is taken over by the next caller (its leader is presumed gone).
    /// </summary>
    [AlwaysInterleave]
    Task<FlightResult> GetOrJoinAsync(string cacheKey, string scope, string requestId, TimeSpan wait);

    /// <summary>The leader <paramref name="requestId"/> gives up its flight (its call failed): waiters are released to call the backend themselves.</summary>
    [OneWay]
    Task AbandonAsync(string cacheKey, string scope, string requestId);

    [ReadOnly]
    Task<CacheShardStats> GetStatsAsync();
}

/// <summary>
/// What a cache shard answered to <see cref="ICacheShardGrain.GetOrJoinAsync"/>: a stored answer, the lead of a new
/// flight (the caller calls the backend, then <see cref="ICacheShardGrain.PutAsync"/> or <see cref="ICacheShardGrain.AbandonAsync"/>),
/// the answer of an identical call that was already in flight, or neither (the wait ended: call the backend yourself).
/// </summary>
[GenerateSerializer]
public enum FlightRole
{
    /// <summary>A live cached answer; <see cref="FlightResult.Completion"/> is set.</summary>
    Hit = 0,

    /// <summary>No answer and no identical call in flight: the caller leads a new flight.</summary>
    Lead = 1,

    /// <summary>An identical call was in flight and finished while the caller waited; <see cref="FlightResult.Completion"/> is set.</summary>
    Joined = 2,

    /// <summary>An identical call was in flight but failed, was abandoned or did not finish in time: call the backend yourself.</summary>
    Released = 3,
}

/// <summary>Answer of <see cref="ICacheShardGrain.GetOrJoinAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.FlightResult")]
public sealed record FlightResult(
    [property: Id(0)] FlightRole Role,
    [property: Id(1)] CachedCompletion? Completion);

/// <summary>
/// A similarity sketch of a conversation's text for the near-duplicate cache (made by the gateway; the grain only compares).
/// </summary>
/// <param name="ContentKey">Hash of the ordered content words: only sketches with equal keys can be near duplicates.</param>
/// <param name="Signature">MinHash signature over word shingles; the share of equal slots estimates Jaccard similarity.</param>
/// <param name="ContentWords">How many content words the text has; a text without any is never matched.</param>
[GenerateSerializer, Immutable, Alias("microapps.NearDuplicateSketch")]
public sealed record NearDuplicateSketch(
    [property: Id(0)] long ContentKey,
    [property: Id(1)] uint[] Signature,
    [property: Id(2)] int ContentWords)
{
    /// <summary>False for texts made only of filler ("hi", "thanks!"): too little to call two of them the same question.</summary>
    public bool IsComparable => ContentWords > 0;
}

/// <summary>A near-duplicate cache hit: the stored answer and how similar its request was.</summary>
[GenerateSerializer, Immutable, Alias("microapps.NearDuplicateMatch")]
public sealed record NearDuplicateMatch(
    [property: Id(0)] CachedCompletion Completion,
    [property: Id(1)] double Similarity);

/// <summary>Counters of one app's near-duplicate cache, reported apart from the exact cache's.</summary>
[GenerateSerializer, Immutable, Alias("microapps.NearDuplicateStats")]
public sealed record NearDuplicateStats(
    [property: Id(0)] string AppId,
    [property: Id(1)] int Entries,
    [property: Id(2)] long NearHits,
    [property: Id(3)] long Misses,
    [property: Id(4)] long Evictions);

/// <summary>
/// The near-duplicate response cache of one app (key: app id), in memory. Entries are scoped by a context key (the
/// exact cache's key over everything but the conversation text: selection, parameters, prompt version, system
/// messages, roles) and compared by their sketches. A grain per app: no lookup can ever reach another app's answers.
/// </summary>
public interface INearDuplicateCacheGrain : IGrainWithStringKey
{
    /// <summary>The most similar live entry made in <paramref name="contextKey"/> whose similarity is at least <paramref name="threshold"/>, or null.</summary>
    Task<NearDuplicateMatch?> FindAsync(string contextKey, NearDuplicateSketch sketch, double threshold);

    /// <summary>Stores an answer for <paramref name="ttl"/>; past <c>Savings:NearDuplicate:MaxEntriesPerApp</c> the oldest entries go.</summary>
    [OneWay]
    Task PutAsync(string contextKey, NearDuplicateSketch sketch, CachedCompletion completion, TimeSpan ttl);

    [ReadOnly]
    Task<NearDuplicateStats> GetStatsAsync();
}
