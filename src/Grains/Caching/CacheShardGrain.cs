using Microsoft.Extensions.DependencyInjection;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Caching;

/// <summary>
/// One shard of the response cache, in memory only: a cache may be lost on deactivation or a silo
/// failure, which costs a model call, never correctness, so writing it to storage would buy nothing.
/// Entries are keyed by (scope, key), so a lookup from another scope cannot reach an entry.
/// The shard also coordinates single-flight: identical calls (same scope and key) in flight at once, from any silo,
/// share the first one's backend call (<see cref="GetOrJoinAsync"/>). Flights live in memory too: a lost flight only
/// means its waiters call the backend themselves after their wait.
/// </summary>
public sealed class CacheShardGrain(IOptions<GatewayOptions> options, [FromKeyedServices(PlatformClock.Key)] TimeProvider time) : Grain, ICacheShardGrain
{
    private readonly Dictionary<(string Scope, string Key), LinkedListNode<Entry>> _entries = [];

    // Insertion order, oldest first: the size bound evicts from the front.
    private readonly LinkedList<Entry> _age = new();
    private long _hits;
    private long _misses;
    private long _evictions;
    private long _joins;
    private readonly Dictionary<(string Scope, string Key), Flight> _flights = [];

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
            if (_flights.Remove((scope, cacheKey), out var uncached))
            {
                uncached.Answer.TrySetResult(completion);
            }

            return Task.CompletedTask;
        }

        if (_entries.TryGetValue((scope, cacheKey), out var existing))
        {
            Remove(existing);
        }

        // An answer for the key ends any flight for it, whoever made the answer: waiters want exactly this.
        if (_flights.Remove((scope, cacheKey), out var flight))
        {
            flight.Answer.TrySetResult(completion);
        }

        var node = _age.AddLast(new Entry(scope, cacheKey, completion, ExpiresAt(completion, ttl, time)));
        _entries[(scope, cacheKey)] = node;
        var bound = Math.Max(1, options.Value.CacheMaxEntriesPerShard);
        while (_entries.Count > bound && _age.First is { } oldest)
        {
            Remove(oldest);
            _evictions++;
        }

        return Task.CompletedTask;
    }

    public async Task<FlightResult> GetOrJoinAsync(string cacheKey, string scope, string requestId, TimeSpan wait)
    {
        // Interleaves with every other call (a waiter must not block the leader's put), but each part up to an await
        // runs alone, so the look-up and the take-over of a flight are atomic.
        var cached = await GetAsync(cacheKey, scope);
        if (cached is not null)
        {
            return new FlightResult(FlightRole.Hit, cached);
        }

        var now = time.GetUtcNow();
        if (!_flights.TryGetValue((scope, cacheKey), out var flight) || flight.StartedAt + wait <= now || flight.LeaderRequestId == requestId)
        {
            // No flight, or one whose leader has had its whole wait and never reported (its silo may be gone): lead.
            // The same request id again is a retry of the leader itself, which must not wait on itself.
            flight?.Answer.TrySetResult(null);
            _flights[(scope, cacheKey)] = new Flight(requestId, now);
            return new FlightResult(FlightRole.Lead, null);
        }

        _joins++;
        using var expired = new CancellationTokenSource();
        var timeout = Task.Delay(wait, time, expired.Token);
        var finished = await Task.WhenAny(flight.Answer.Task, timeout);
        await expired.CancelAsync();
        var answer = finished == flight.Answer.Task ? await flight.Answer.Task : null;
        return answer is null ? new FlightResult(FlightRole.Released, null) : new FlightResult(FlightRole.Joined, answer);
    }

    public Task AbandonAsync(string cacheKey, string scope, string requestId)
    {
        if (_flights.TryGetValue((scope, cacheKey), out var flight) && flight.LeaderRequestId == requestId)
        {
            _flights.Remove((scope, cacheKey));
            flight.Answer.TrySetResult(null);
        }

        return Task.CompletedTask;
    }

    public Task<CacheShardStats> GetStatsAsync()
    {
        var now = time.GetUtcNow();
        var live = _age.Count(e => e.ExpiresAt > now);
        return Task.FromResult(new CacheShardStats(this.GetPrimaryKeyLong(), live, _hits, _misses, _evictions, _joins));
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _entries.Remove((node.Value.Scope, node.Value.Key));
        _age.Remove(node);
    }

    // The answer is null when the flight ended without one (abandoned or taken over).
    private sealed class Flight(string leaderRequestId, DateTimeOffset startedAt)
    {
        public string LeaderRequestId { get; } = leaderRequestId;

        public DateTimeOffset StartedAt { get; } = startedAt;

        public TaskCompletionSource<CachedCompletion?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record Entry(string Scope, string Key, CachedCompletion Completion, DateTimeOffset ExpiresAt);

    /// <summary>
    /// The TTL counts from when the answer was made, not from when this one-way put arrived: a put delivered late
    /// must not keep the answer longer than the TTL promised.
    /// </summary>
    internal static DateTimeOffset ExpiresAt(CachedCompletion completion, TimeSpan ttl, TimeProvider time)
    {
        var now = time.GetUtcNow();
        return (completion.CreatedAt < now ? completion.CreatedAt : now) + ttl;
    }
}
