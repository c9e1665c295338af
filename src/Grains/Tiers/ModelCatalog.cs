using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Tiers;

/// <summary>What a requested model string resolved to.</summary>
/// <param name="Tier">The tier the call is governed and priced by.</param>
/// <param name="Candidates">Models to try, in configured order.</param>
/// <param name="PinnedModel">The model name when the caller named a model rather than a tier.</param>
public sealed record ModelResolution(string Tier, IReadOnlyList<ModelSpec> Candidates, string? PinnedModel);

/// <summary>The configured tiers and models, read-only after start.</summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, IReadOnlyList<ModelSpec>> _tiers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (string Tier, ModelSpec Spec)> _models = new(StringComparer.OrdinalIgnoreCase);

    public ModelCatalog(IOptions<ModelCatalogOptions> options)
        : this(options.Value)
    {
    }

    public ModelCatalog(ModelCatalogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (tier, tierOptions) in options.Tiers)
        {
            var specs = tierOptions.Models
                .Select(m => new ModelSpec(m.Name, m.Backend, m.InputPricePer1K, m.OutputPricePer1K, m.ContextWindow, m.External))
                .ToArray();
            _tiers[tier] = specs;
            foreach (var spec in specs)
            {
                _models.TryAdd(spec.Name, (tier, spec));
            }
        }
    }

    public IReadOnlyCollection<string> TierNames => _tiers.Keys;

    /// <summary>The models of <paramref name="tier"/> in configured order; empty for an unknown tier.</summary>
    public IReadOnlyList<ModelSpec> ModelsOf(string tier) => _tiers.TryGetValue(tier, out var specs) ? specs : [];

    /// <summary>
    /// Resolves a model name, a tier name, or <c>auto</c>/empty (the app's <paramref name="defaultTier"/>);
    /// null when nothing has that name.
    /// </summary>
    public ModelResolution? Resolve(string? requested, string defaultTier)
    {
        var name = requested?.Trim();
        if (string.IsNullOrEmpty(name) || string.Equals(name, ModelCatalogOptions.AutoModel, StringComparison.OrdinalIgnoreCase))
        {
            name = defaultTier;
        }

        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        if (_tiers.TryGetValue(name, out var specs))
        {
            return new ModelResolution(TierKey(name), specs, null);
        }

        // A named model is honoured exactly: the caller asked for that model, so no other model stands in.
        return _models.TryGetValue(name, out var model)
            ? new ModelResolution(model.Tier, [model.Spec], model.Spec.Name)
            : null;
    }

    // Tier grains are keyed by the configured spelling so "Standard" and "standard" share one grain.
    private string TierKey(string name) => _tiers.Keys.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
}
