using Microsoft.Extensions.DependencyInjection;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Caching;

/// <summary>
/// One shard of the response cache, in memory only: a cache may be lost on deactivation or a silo
/// failure, which costs a model call, never correctness, so writing it to storage would buy nothing.
/// Entries are keyed by (scope, key), so a lookup from another scope cannot reach an entry.
/// </summary>
public sealed class CacheShardGrain(IOptions<GatewayOptions> options, [FromKeyedServices(PlatformClock.Key)] TimeProvider time) : Grain, ICacheShardGrain
{
    private readonly Dictionary<(string Scope, string Key), LinkedListNode<Entry>> _entries = [];

    // Insertion order, oldest first: the size bound evicts from the front.
    private readonly LinkedList<Entry> _age = new();
    private long _hits;
    private long _misses;
    private long _evictions;

    public Task<CachedCompletion?> GetAsync(string cacheKey, string scope)
    {
        if (_entries.TryGetValue((scope, cacheKey), out var node))
        {
            if (node.Value.ExpiresAt > time.GetUtcNow() && node.Value.Scope == scope)
            {
                _hits++;
                return Task.FromResult<CachedCompletion?>(node.Value.Completion);
            }

            Remove(node);
        }

        _misses++;
        return Task.FromResult<CachedCompletion?>(null);
    }

    public Task PutAsync(string cacheKey, string scope, CachedCompletion completion, TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero)
        {
            return Task.CompletedTask;
        }

        if (_entries.TryGetValue((scope, cacheKey), out var existing))
        {
            Remove(existing);
        }

        var node = _age.AddLast(new Entry(scope, cacheKey, completion, time.GetUtcNow() + ttl));
        _entries[(scope, cacheKey)] = node;
        var bound = Math.Max(1, options.Value.CacheMaxEntriesPerShard);
        while (_entries.Count > bound && _age.First is { } oldest)
        {
            Remove(oldest);
            _evictions++;
        }

        return Task.CompletedTask;
    }

    public Task<CacheShardStats> GetStatsAsync()
    {
        var now = time.GetUtcNow();
        var live = _age.Count(e => e.ExpiresAt > now);
        return Task.FromResult(new CacheShardStats(this.GetPrimaryKeyLong(), live, _hits, _misses, _evictions));
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _entries.Remove((node.Value.Scope, node.Value.Key));
        _age.Remove(node);
    }

    private sealed record Entry(string Scope, string Key, CachedCompletion Completion, DateTimeOffset ExpiresAt);
}
