namespace MicroApps.Orleans.Tiers;

/// <summary>One configured tier and its models in configured order, as the silo's model catalog has them.</summary>
/// <param name="Tier">The tier name, in its configured spelling (the key of its <see cref="IModelTierGrain"/>).</param>
/// <param name="Models">The tier's models in the order they are configured.</param>
[GenerateSerializer, Immutable, Alias("microapps.TierDescription")]
public sealed record TierDescription(
    [property: Id(0)] string Tier,
    [property: Id(1)] IReadOnlyList<ModelSpec> Models);

/// <summary>
/// The tiers the cluster is configured with (key <c>0</c>). It runs on the silos, so a front door that is a plain Orleans
/// client without the <c>Models</c> configuration still learns the tier names; health comes from each
/// <see cref="IModelTierGrain"/>.
/// </summary>
public interface ITierCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Every configured tier with its models, tiers ordered by name.</summary>
    [ReadOnly]
    Task<IReadOnlyList<TierDescription>> GetTiersAsync();
}
