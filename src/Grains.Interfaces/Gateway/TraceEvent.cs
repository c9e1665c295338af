namespace MicroApps.Orleans.Gateway;

/// <summary>
/// One record per governed model call. Prompts never appear here: only <see cref="PromptHash"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.TraceEvent")]
public sealed record TraceEvent(
    [property: Id(0)] string AppId,
    [property: Id(1)] string RequestId,
    [property: Id(2)] string Model,
    [property: Id(3)] string ModelTier,
    [property: Id(4)] int TokensIn,
    [property: Id(5)] int TokensOut,
    [property: Id(6)] double LatencyMs,
    [property: Id(7)] string PromptVersion,
    [property: Id(8)] decimal CostEstimateUsd,
    [property: Id(9)] string Route,
    [property: Id(10)] string Outcome,
    [property: Id(11)] string? BizMetric,
    [property: Id(12)] string Team,
    [property: Id(13)] string PromptHash,
    [property: Id(14)] bool CacheHit,
    [property: Id(15)] decimal CostActualUsd,
    [property: Id(16)] DateTimeOffset Timestamp,
    [property: Id(17)] IReadOnlyList<string> Decisions);
