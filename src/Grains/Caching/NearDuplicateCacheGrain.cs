using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Caching;

/// <summary>
/// One app's near-duplicate cache, in memory only like the exact cache (a lost entry costs a model call, never
/// correctness). Entries are bucketed by (context key, content key): only requests with the same context and the same
/// content words can match, so a lookup is a dictionary probe plus a signature comparison per entry of that bucket
/// (usually one), not a scan of the app's entries.
/// </summary>
public sealed class NearDuplicateCacheGrain(IOptions<NearDuplicateOptions> options, [FromKeyedServices(PlatformClock.Key)] TimeProvider time)
    : Grain, INearDuplicateCacheGrain
{
    private readonly Dictionary<(string Context, long ContentKey), List<LinkedListNode<Entry>>> _buckets = [];

    // Insertion order, oldest first: the size bound evicts from the front.
    private readonly LinkedList<Entry> _age = new();
    private long _hits;
    private long _misses;
    private long _evictions;

    public Task<NearDuplicateMatch?> FindAsync(string contextKey, NearDuplicateSketch sketch, double threshold)
    {
        ArgumentNullException.ThrowIfNull(sketch);
        NearDuplicateMatch? best = null;
        if (sketch.IsComparable && _buckets.TryGetValue((contextKey, sketch.ContentKey), out var bucket))
        {
            var now = time.GetUtcNow();
            foreach (var node in bucket.ToArray())
            {
                if (node.Value.ExpiresAt <= now)
                {
                    Remove(node);
                    continue;
                }

                var similarity = NearDuplicateSketcher.Similarity(sketch, node.Value.Sketch);
                if (similarity >= threshold && similarity > (best?.Similarity ?? -1))
                {
                    best = new NearDuplicateMatch(node.Value.Completion, similarity);
                }
            }
        }

        if (best is null)
        {
            _misses++;
        }
        else
        {
            _hits++;
        }

        return Task.FromResult(best);
    }

    public Task PutAsync(string contextKey, NearDuplicateSketch sketch, CachedCompletion completion, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(sketch);
        if (ttl <= TimeSpan.Zero || !sketch.IsComparable)
        {
            return Task.CompletedTask;
        }

        var bucketKey = (contextKey, sketch.ContentKey);
        if (!_buckets.TryGetValue(bucketKey, out var bucket))
        {
            bucket = [];
            _buckets[bucketKey] = bucket;
        }

        // The same text again replaces its entry rather than piling up copies.
        foreach (var same in bucket.Where(n => n.Value.Sketch.Signature.AsSpan().SequenceEqual(sketch.Signature)).ToArray())
        {
            Remove(same);
        }

        bucket.Add(_age.AddLast(new Entry(contextKey, sketch, completion, CacheShardGrain.ExpiresAt(completion, ttl, time))));
        if (!_buckets.ContainsKey(bucketKey))
        {
            _buckets[bucketKey] = bucket;
        }

        var bound = Math.Max(1, options.Value.MaxEntriesPerApp);
        while (_age.Count > bound && _age.First is { } oldest)
        {
            Remove(oldest);
            _evictions++;
        }

        return Task.CompletedTask;
    }

    public Task<NearDuplicateStats> GetStatsAsync()
    {
        var now = time.GetUtcNow();
        return Task.FromResult(new NearDuplicateStats(this.GetPrimaryKeyString(), _age.Count(e => e.ExpiresAt > now), _hits, _misses, _evictions));
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        var key = (node.Value.Context, node.Value.Sketch.ContentKey);
        if (_buckets.TryGetValue(key, out var bucket))
        {
            bucket.Remove(node);
            if (bucket.Count == 0)
            {
                _buckets.Remove(key);
            }
        }

        _age.Remove(node);
    }

    private sealed record Entry(string Context, NearDuplicateSketch Sketch, CachedCompletion Completion, DateTimeOffset ExpiresAt);
}
