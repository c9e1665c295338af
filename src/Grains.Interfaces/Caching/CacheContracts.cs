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
    [property: Id(4)] long Evictions);

/// <summary>
/// One shard of the exact-match response cache (key: shard number = hash of cache key mod N).
/// Every entry carries the scope (app id) it was made in; a lookup from another scope never sees it.
/// </summary>
public interface ICacheShardGrain : IGrainWithIntegerKey
{
    /// <summary>The live entry for <paramref name="cacheKey"/> made in <paramref name="scope"/>, or null.</summary>
    Task<CachedCompletion?> GetAsync(string cacheKey, string scope);

    /// <summary>Stores an entry for <paramref name="ttl"/>; the shard evicts its oldest entries past its size bound.</summary>
    [OneWay]
    Task PutAsync(string cacheKey, string scope, CachedCompletion completion, TimeSpan ttl);

    [ReadOnly]
    Task<CacheShardStats> GetStatsAsync();
}
