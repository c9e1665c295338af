using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Embeddings;

/// <summary>
/// One shard of the embedding cache, in memory only (like the response cache): losing it on deactivation or a silo
/// failure costs a backend call, never correctness. Bounded by <see cref="EmbeddingOptions.CacheMaxEntriesPerShard"/>
/// (oldest evicted first) and expiring after the TTL given with each put. Entries are keyed by (scope, key), so a
/// lookup in one app's scope can never reach another app's entry.
/// </summary>
public sealed class EmbeddingCacheShardGrain(IOptions<EmbeddingOptions> options, [FromKeyedServices(PlatformClock.Key)] TimeProvider time)
    : Grain, IEmbeddingCacheShardGrain
{
    private readonly Dictionary<(string Scope, string Key), LinkedListNode<Entry>> _entries = [];

    // Insertion order, oldest first: the size bound evicts from the front.
    private readonly LinkedList<Entry> _age = new();
    private long _hits;
    private long _misses;
    private long _evictions;

    public Task<float[]?[]> GetManyAsync(IReadOnlyList<EmbeddingCacheKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var now = time.GetUtcNow();
        var found = new float[]?[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            if (_entries.TryGetValue((key.Scope, key.Key), out var node))
            {
                if (node.Value.ExpiresAt > now)
                {
                    _hits++;
                    found[i] = node.Value.Vector;
                    continue;
                }

                Remove(node);
            }

            _misses++;
        }

        return Task.FromResult(found);
    }

    public Task PutManyAsync(IReadOnlyList<EmbeddingCacheEntry> entries, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (ttl <= TimeSpan.Zero)
        {
            return Task.CompletedTask;
        }

        var expiresAt = time.GetUtcNow() + ttl;
        var bound = Math.Max(1, options.Value.CacheMaxEntriesPerShard);
        foreach (var entry in entries)
        {
            var id = (entry.Key.Scope, entry.Key.Key);
            if (_entries.TryGetValue(id, out var existing))
            {
                Remove(existing);
            }

            _entries[id] = _age.AddLast(new Entry(entry.Key.Scope, entry.Key.Key, entry.Vector, expiresAt));
            while (_entries.Count > bound && _age.First is { } oldest)
            {
                Remove(oldest);
                _evictions++;
            }
        }

        return Task.CompletedTask;
    }

    public Task<EmbeddingCacheStats> GetStatsAsync()
    {
        var now = time.GetUtcNow();
        var live = _age.Count(e => e.ExpiresAt > now);
        return Task.FromResult(new EmbeddingCacheStats(this.GetPrimaryKeyLong(), live, _hits, _misses, _evictions));
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _entries.Remove((node.Value.Scope, node.Value.Key));
        _age.Remove(node);
    }

    private sealed record Entry(string Scope, string Key, float[] Vector, DateTimeOffset ExpiresAt);
}
