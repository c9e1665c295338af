namespace MicroApps.Orleans.Gateway;

/// <summary>
/// One record per governed model call. Prompts never appear here: only <see cref="PromptHash"/>.
/// <para>
/// Policy fields: <c>Policy</c> is the decision summary, e.g. <c>block:prevent_external_llm_for_pii</c> or
/// <c>allow:default</c> (null when the call ended before policies were evaluated); <c>PolicyMatches</c> lists every
/// matching policy as <c>{id} {action} applied|overridden: {why}</c> in document order; <c>PiiClasses</c> holds the
/// PII classes found in the request (class names only, never the PII; null when the scan did not run);
/// <c>PolicyVersion</c> is the policy set version that governed the call (0 when none was published).
/// </para>
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
    [property: Id(17)] IReadOnlyList<string> Decisions,
    [property: Id(18)] string? Policy = null,
    [property: Id(19)] IReadOnlyList<string>? PolicyMatches = null,
    [property: Id(20)] IReadOnlyList<string>? PiiClasses = null,
    [property: Id(21)] int PolicyVersion = 0);
