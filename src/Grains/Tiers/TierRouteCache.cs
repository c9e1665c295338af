using System.Collections.Concurrent;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Tiers;

/// <summary>
/// This silo's view of each tier grain's health-ordered route, reused for <see cref="GatewayOptions.RouteCacheDuration"/>
/// so a busy tier is asked about once a second, not once per call. The route step and the savings router share it.
/// </summary>
public sealed class TierRouteCache(IGrainFactory grains, IOptions<GatewayOptions> options, [FromKeyedServices(PlatformClock.Key)] TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (TierRoute Route, DateTimeOffset FetchedAt)> _routes = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The tier's route, from the tier grain when the cached one is older than the route cache duration.</summary>
    public async ValueTask<TierRoute> GetAsync(string tier)
    {
        var now = time.GetUtcNow();
        if (_routes.TryGetValue(tier, out var cached) && now - cached.FetchedAt < options.Value.RouteCacheDuration)
        {
            return cached.Route;
        }

        var route = await grains.GetGrain<IModelTierGrain>(tier).GetRouteAsync();
        _routes[tier] = (route, now);
        return route;
    }

    /// <summary>The last route read for the tier, however old; null when none was read.</summary>
    public TierRoute? LastKnown(string tier) => _routes.TryGetValue(tier, out var cached) ? cached.Route : null;
}
