using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Policies;

/// <summary>
/// The active policy set as one silo sees it: asked of the policy set grain at most once per
/// <see cref="PolicyOptions.RefreshInterval"/>, parsed once per version. The governed call reads it on every
/// call, so the single policy set grain is not on the hot path.
/// </summary>
public sealed class PolicySetCache(IGrainFactory grains, IOptions<PolicyOptions> options, [FromKeyedServices(PlatformClock.Key)] TimeProvider time, ILogger<PolicySetCache> logger)
{
    /// <summary>Key of the organisation's policy set grain.</summary>
    public const string PolicySetKey = "default";

    private readonly Lock _gate = new();
    private Snapshot? _current;
    private Task<CompiledPolicySet>? _refreshing;

    /// <summary>The active version (or <see cref="CompiledPolicySet.None"/> before one is published).</summary>
    public ValueTask<CompiledPolicySet> GetAsync()
    {
        var interval = options.Value.RefreshInterval;
        var current = Volatile.Read(ref _current);
        if (current is not null && time.GetUtcNow() - current.FetchedAt < interval)
        {
            return ValueTask.FromResult(current.Set);
        }

        if (interval <= TimeSpan.Zero)
        {
            return new ValueTask<CompiledPolicySet>(RefreshAsync());
        }

        // Callers that find the snapshot stale at the same moment share one grain call.
        lock (_gate)
        {
            if (_refreshing is null || _refreshing.IsCompleted)
            {
                _refreshing = RefreshAsync();
            }

            return new ValueTask<CompiledPolicySet>(_refreshing);
        }
    }

    private async Task<CompiledPolicySet> RefreshAsync()
    {
        var previous = Volatile.Read(ref _current);
        PolicySetVersion? active;
        try
        {
            active = await grains.GetGrain<IPolicySetGrain>(PolicySetKey).GetActiveAsync();
        }
        catch (Exception ex) when (previous is not null)
        {
            // Calls keep being judged by the version this silo has rather than failing while the policy set grain
            // is unreachable (it moves when its silo dies); ask again after the interval.
            logger.LogWarning(ex, "Refreshing the policy set failed; calls keep using version {Version}", previous.Set.Version);
            Volatile.Write(ref _current, previous with { FetchedAt = time.GetUtcNow() });
            return previous.Set;
        }

        var set = active is null ? CompiledPolicySet.None
            : previous?.Set.Version == active.Version && previous.Set.ContentHash == active.ContentHash ? previous.Set
            : CompiledPolicySet.Compile(active);
        Volatile.Write(ref _current, new Snapshot(set, time.GetUtcNow()));
        return set;
    }

    private sealed record Snapshot(CompiledPolicySet Set, DateTimeOffset FetchedAt);
}
