using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Tiers;

/// <summary>
/// A tier's route and model health. No persistence: the models come from configuration and health is
/// volatile by nature (after a deactivation every model starts healthy again, which only costs one trial call).
/// </summary>
public sealed class ModelTierGrain : Grain, IModelTierGrain
{
    private readonly ModelCatalog _catalog;
    private readonly ModelHealthTracker _health;

    public ModelTierGrain(ModelCatalog catalog, IOptions<ModelCatalogOptions> options, [FromKeyedServices(PlatformClock.Key)] TimeProvider time)
    {
        _catalog = catalog;
        _health = new ModelHealthTracker(time, options.Value.CircuitBreakerFailures, options.Value.CircuitBreakerCoolDown);
    }

    public Task<TierRoute> GetRouteAsync()
    {
        var tier = this.GetPrimaryKeyString();
        var models = _catalog.ModelsOf(tier);
        var route = new TierRoute(tier, _health.Order(models), models.Select(m => _health.Snapshot(m.Name)).ToArray());
        return Task.FromResult(route);
    }

    public Task ReportOutcomeAsync(string model, bool success, double latencyMs)
    {
        _health.Report(model, success, latencyMs);
        return Task.CompletedTask;
    }
}
