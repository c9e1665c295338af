namespace MicroApps.Orleans.Savings;

/// <summary>
/// The query types a call is classified into (by the app's declared task, or by a cheap classifier over the
/// request). Quality is estimated per (model, query type), so routing can send summaries to a small model while
/// code stays on a large one.
/// </summary>
public static class QueryTypes
{
    public const string Summarise = "summarise";
    public const string Classify = "classify";
    public const string Extract = "extract";
    public const string Chat = "chat";
    public const string Code = "code";

    public static IReadOnlyList<string> All { get; } = [Summarise, Classify, Extract, Chat, Code];

    /// <summary>The known type with this name (case-insensitive), or null.</summary>
    public static string? Parse(string? name)
    {
        foreach (var known in All)
        {
            if (string.Equals(known, name?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
    }
}

/// <summary>
/// Why a call cost less than it would have on the route the app asked for (<c>TraceEvent.Saving</c>). The cost
/// dashboard and the savings replay split the saving by these values.
/// </summary>
public static class SavingKinds
{
    /// <summary>Served on the route the app asked for.</summary>
    public const string None = "none";

    /// <summary>Exact cache hit, or a call that shared an identical in-flight call's backend answer (single-flight).</summary>
    public const string Cache = "cache";

    /// <summary>Near-duplicate cache hit (a similar earlier request of the same app).</summary>
    public const string NearDuplicate = "near_duplicate";

    /// <summary>Cost-aware routing chose a cheaper model whose estimated quality meets the app's SLO.</summary>
    public const string Routing = "routing";

    /// <summary>Adaptive sampling sent a premium request to a cheaper model because the app's budget burns too fast.</summary>
    public const string Sampling = "sampling";

    public static IReadOnlyList<string> All { get; } = [None, Cache, NearDuplicate, Routing, Sampling];
}

/// <summary>Where a piece of quality evidence came from (<see cref="QualityEvidence.Source"/>).</summary>
public static class QualitySources
{
    /// <summary>A shadow evaluation: the model answered a share of live traffic and was scored against the served answer.</summary>
    public const string Shadow = "shadow";

    /// <summary>User feedback joined to the call's trace (thumbs up = 1, down = 0).</summary>
    public const string Feedback = "feedback";

    /// <summary>A prompt regression test result on that model (pass = 1, fail = 0).</summary>
    public const string Regression = "regression";

    public static IReadOnlyList<string> All { get; } = [Shadow, Feedback, Regression];
}

/// <summary>One observation of how well <paramref name="Model"/> did on a query type.</summary>
/// <param name="EvidenceId">Unique per observation; recording the same id twice counts once.</param>
/// <param name="Model">The model the observation is about.</param>
/// <param name="QueryType">One of <see cref="QueryTypes"/>.</param>
/// <param name="Source">One of <see cref="QualitySources"/>.</param>
/// <param name="Score">0 (useless) to 1 (as good as the reference answer).</param>
/// <param name="ObservedAt">When it was observed.</param>
[GenerateSerializer, Immutable, Alias("microapps.QualityEvidence")]
public sealed record QualityEvidence(
    [property: Id(0)] string EvidenceId,
    [property: Id(1)] string Model,
    [property: Id(2)] string QueryType,
    [property: Id(3)] string Source,
    [property: Id(4)] double Score,
    [property: Id(5)] DateTimeOffset ObservedAt);

/// <summary>The estimated quality of one model on one query type.</summary>
/// <param name="Model">Model name.</param>
/// <param name="Score">Mean score of the evidence, 0 to 1.</param>
/// <param name="Samples">How many observations the estimate rests on.</param>
/// <param name="SamplesBySource">Observations per <see cref="QualitySources"/> value.</param>
[GenerateSerializer, Immutable, Alias("microapps.ModelQuality")]
public sealed record ModelQuality(
    [property: Id(0)] string Model,
    [property: Id(1)] double Score,
    [property: Id(2)] long Samples,
    [property: Id(3)] IReadOnlyDictionary<string, long> SamplesBySource);

/// <summary>Quality estimates of every model with evidence for one query type.</summary>
[GenerateSerializer, Immutable, Alias("microapps.QualityTable")]
public sealed record QualityTable(
    [property: Id(0)] string QueryType,
    [property: Id(1)] IReadOnlyList<ModelQuality> Models,
    [property: Id(2)] DateTimeOffset UpdatedAt);

/// <summary>
/// Quality evidence per model for one query type (key: the query type). One grain per type keeps every silo's
/// routing on the same estimates; silos cache the table for about a second.
/// </summary>
public interface IModelQualityGrain : IGrainWithStringKey
{
    /// <summary>Adds one observation; idempotent by <see cref="QualityEvidence.EvidenceId"/>.</summary>
    Task RecordAsync(QualityEvidence evidence);

    [ReadOnly]
    Task<QualityTable> GetAsync();
}

/// <summary>
/// An app's savings-engine settings (<c>AppManifest.Savings</c>). Null on the manifest means every saving is off
/// except the exact cache and, for apps that declare no PII data classes, the near-duplicate cache.
/// </summary>
/// <param name="Routing">Cost-aware routing: send a call to the cheapest allowed model whose estimated quality for the call's type meets <paramref name="QualitySlo"/>.</param>
/// <param name="QualitySlo">Share of the reference (requested tier's) model's quality a cheaper model must reach, 0 to 1 (0.9 = at least 90%).</param>
/// <param name="Task">The app's declared query type (one of <see cref="QueryTypes"/>); null or empty means each call is classified.</param>
/// <param name="Sampling">Adaptive premium sampling bounds; null means every premium request stays on premium (unless routing moves it).</param>
/// <param name="NearDuplicate">Near-duplicate cache settings; null means the platform default (on unless the app declares PII data classes).</param>
[GenerateSerializer, Immutable, Alias("microapps.SavingsSettings")]
public sealed record SavingsSettings(
    [property: Id(0)] bool Routing = false,
    [property: Id(1)] double QualitySlo = 0.9,
    [property: Id(2)] string? Task = null,
    [property: Id(3)] PremiumSampling? Sampling = null,
    [property: Id(4)] NearDuplicateSettings? NearDuplicate = null);

/// <summary>
/// Bounds of the share of an app's premium requests that stay on premium. The share adapts to the app budget's burn
/// rate against the period's progress, between <paramref name="MinShare"/> and <paramref name="MaxShare"/> (0 to 1).
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.PremiumSampling")]
public sealed record PremiumSampling(
    [property: Id(0)] double MinShare,
    [property: Id(1)] double MaxShare);

/// <summary>Near-duplicate cache switch and similarity threshold (0 to 1; higher means stricter) for one app.</summary>
[GenerateSerializer, Immutable, Alias("microapps.NearDuplicateSettings")]
public sealed record NearDuplicateSettings(
    [property: Id(0)] bool Enabled,
    [property: Id(1)] double? Threshold = null);
