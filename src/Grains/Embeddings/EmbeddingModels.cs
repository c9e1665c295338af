using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Embeddings;

/// <summary>One configured embedding model, priced per 1k input tokens.</summary>
public sealed record EmbeddingModelSpec(string Name, string Backend, decimal InputPricePer1K, int Dimensions, bool External)
{
    /// <summary>The tier embedding calls are traced and reported under.</summary>
    public const string Tier = "embeddings";

    /// <summary>As a chat model spec, so the shared price calculator prices it (no output tokens).</summary>
    public ModelSpec AsModelSpec() => new(Name, Backend, InputPricePer1K, 0m, int.MaxValue, External);
}

/// <summary>The embedding models of <c>Models:Embeddings:Models</c>, read-only after start.</summary>
public sealed class EmbeddingModels
{
    private readonly Dictionary<string, EmbeddingModelSpec> _models = new(StringComparer.OrdinalIgnoreCase);

    public EmbeddingModels(IOptions<ModelCatalogOptions> options)
    {
        foreach (var model in options.Value.Embeddings?.Models ?? [])
        {
            _models.TryAdd(model.Name, new EmbeddingModelSpec(model.Name, model.Backend, model.InputPricePer1K, model.Dimensions, model.External));
        }
    }

    public IReadOnlyCollection<string> Names => _models.Keys;

    /// <summary>The model named <paramref name="name"/> (case-insensitive), or null.</summary>
    public EmbeddingModelSpec? Find(string? name) =>
        name is not null && _models.TryGetValue(name.Trim(), out var spec) ? spec : null;
}
