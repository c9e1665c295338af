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
/// <para>
/// <c>Outcome</c> is one of <see cref="TraceOutcomes"/> (success, cache_hit, blocked, throttled, invalid, unauthorized,
/// error); <c>ErrorCode</c> is the refusal's code (for example <c>policy_blocked</c>, <c>rate_limited</c>,
/// <c>budget_exceeded</c>) and says why a blocked, throttled or failed call ended. <c>BizMetric</c> is filled when the
/// app reports feedback or a business outcome for the request (see <c>BizFeedback</c>).
/// </para>
/// <para>
/// Savings fields: <c>QueryType</c> is the call's query type (<c>Savings.QueryTypes</c>; null when the call ended before
/// it was classified); <c>BaselineCostUsd</c> is what the call's tokens would have cost on the first model of the route
/// the app asked for (null when the call never reached routing); <c>Saving</c> is why it cost less
/// (<c>Savings.SavingKinds</c>); <c>RouteReason</c> explains the routing decision: the candidates considered with their
/// quality estimates and evidence, and why the served model was chosen.
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
    [property: Id(21)] int PolicyVersion = 0,
    [property: Id(22)] string? ErrorCode = null,
    [property: Id(23)] string? QueryType = null,
    [property: Id(24)] decimal? BaselineCostUsd = null,
    [property: Id(25)] string? Saving = null,
    [property: Id(26)] string? RouteReason = null);

/// <summary>The values of <see cref="TraceEvent.Outcome"/>.</summary>
public static class TraceOutcomes
{
    /// <summary>A model answered.</summary>
    public const string Success = "success";

    /// <summary>Answered from the cache at no cost.</summary>
    public const string CacheHit = "cache_hit";

    /// <summary>Refused by a policy, the PII rules, the app's lifecycle or its allowed tiers (403).</summary>
    public const string Blocked = "blocked";

    /// <summary>Refused by a quota or the budget (429).</summary>
    public const string Throttled = "throttled";

    /// <summary>The request was malformed, named an unknown model or reused a completed request id (400).</summary>
    public const string Invalid = "invalid";

    /// <summary>The key was unknown, malformed or revoked (401).</summary>
    public const string Unauthorized = "unauthorized";

    /// <summary>Every model failed, the caller went away, or the platform failed (502).</summary>
    public const string Error = "error";

    public static IReadOnlyList<string> All { get; } = [Success, CacheHit, Blocked, Throttled, Invalid, Unauthorized, Error];

    /// <summary>
    /// The trace outcome value of a stored outcome string. Traces written before trace outcomes existed carry
    /// <see cref="GovernedOutcome"/> names (<c>Completed</c>, <c>BudgetExceeded</c>) and map through <see cref="Of"/>;
    /// anything unrecognised (numbers included) is <see cref="Error"/>, so it never becomes a new value.
    /// </summary>
    public static string Normalize(string? outcome)
    {
        foreach (var known in All)
        {
            if (string.Equals(known, outcome, StringComparison.Ordinal))
            {
                return known;
            }
        }

        // Enum.TryParse also accepts numbers ("3"), which are not names a trace writes.
        return outcome is { Length: > 0 }
               && !char.IsAsciiDigit(outcome[0]) && outcome[0] != '-'
               && Enum.TryParse<GovernedOutcome>(outcome, ignoreCase: false, out var governed)
               && Enum.IsDefined(governed)
            ? Of(governed)
            : Error;
    }

    /// <summary>The trace outcome of a governed outcome.</summary>
    public static string Of(GovernedOutcome outcome) => outcome switch
    {
        GovernedOutcome.Completed => Success,
        GovernedOutcome.CacheHit => CacheHit,
        GovernedOutcome.Forbidden => Blocked,
        GovernedOutcome.QuotaExceeded or GovernedOutcome.BudgetExceeded => Throttled,
        GovernedOutcome.InvalidRequest or GovernedOutcome.UnknownModel => Invalid,
        GovernedOutcome.Unauthorized => Unauthorized,
        _ => Error,
    };
}
