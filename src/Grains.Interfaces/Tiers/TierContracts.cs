namespace MicroApps.Orleans.Tiers;

/// <summary>One model in a tier, with what it costs and where it runs.</summary>
/// <param name="Name">Model name as clients ask for it and as the backend knows it.</param>
/// <param name="Backend">Name of the configured backend that serves it.</param>
/// <param name="InputPricePer1K">USD per 1,000 input tokens.</param>
/// <param name="OutputPricePer1K">USD per 1,000 output tokens.</param>
/// <param name="ContextWindow">Most tokens (input plus output) the model accepts.</param>
/// <param name="External">True when the model runs outside the organisation (a hosted API).</param>
[GenerateSerializer, Immutable, Alias("microapps.ModelSpec")]
public sealed record ModelSpec(
    [property: Id(0)] string Name,
    [property: Id(1)] string Backend,
    [property: Id(2)] decimal InputPricePer1K,
    [property: Id(3)] decimal OutputPricePer1K,
    [property: Id(4)] int ContextWindow,
    [property: Id(5)] bool External);

/// <summary>Health of one model as its tier grain sees it.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ModelHealth")]
public sealed record ModelHealth(
    [property: Id(0)] string Model,
    [property: Id(1)] bool Available,
    [property: Id(2)] int ConsecutiveFailures,
    [property: Id(3)] DateTimeOffset? OpenUntil,
    [property: Id(4)] double LatencyMsEstimate,
    [property: Id(5)] long Successes,
    [property: Id(6)] long Failures);

/// <summary>A tier's models in the order to try them: healthy models first, in configured order.</summary>
[GenerateSerializer, Immutable, Alias("microapps.TierRoute")]
public sealed record TierRoute(
    [property: Id(0)] string Tier,
    [property: Id(1)] IReadOnlyList<ModelSpec> Candidates,
    [property: Id(2)] IReadOnlyList<ModelHealth> Health);

/// <summary>
/// A model tier (key: tier name such as <c>local</c>, <c>standard</c>, <c>premium</c>): its models,
/// their prices and health. Failing models are skipped for a cool-down and the next model of the tier is tried.
/// </summary>
public interface IModelTierGrain : IGrainWithStringKey
{
    /// <summary>The models to try, in order; empty when the tier is not configured.</summary>
    [ReadOnly]
    Task<TierRoute> GetRouteAsync();

    /// <summary>Reports how a call to <paramref name="model"/> went, for failover and latency estimates.</summary>
    [OneWay]
    Task ReportOutcomeAsync(string model, bool success, double latencyMs);
}
