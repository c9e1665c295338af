using Orleans.Concurrency;

namespace MicroApps.Orleans.Tiers;

/// <summary>
/// Answers from the silo's <see cref="ModelCatalog"/>, which is read-only after start: a stateless worker, so every silo
/// answers locally and no single activation becomes a hot spot for the console's reads.
/// </summary>
[StatelessWorker]
public sealed class TierCatalogGrain(ModelCatalog catalog) : Grain, ITierCatalogGrain
{
    public Task<IReadOnlyList<TierDescription>> GetTiersAsync()
    {
        IReadOnlyList<TierDescription> tiers = catalog.TierNames
            .Order(StringComparer.OrdinalIgnoreCase)
            .Select(tier => new TierDescription(tier, catalog.ModelsOf(tier)))
            .ToArray();
        return Task.FromResult(tiers);
    }
}
