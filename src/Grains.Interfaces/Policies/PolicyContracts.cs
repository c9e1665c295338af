namespace MicroApps.Orleans.Policies;

/// <summary>What a policy does when its conditions hold.</summary>
public enum PolicyAction
{
    Allow = 0,
    Block = 1,
    Route = 2,
    Redact = 3,
    RequireApproval = 4,
    Sample = 5,
}

/// <summary>
/// The facts a policy condition can test. Request facts are null when there is no request (a promotion gate
/// evaluates the app alone); a condition on a missing fact does not hold.
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.PolicyFacts")]
public sealed record PolicyFacts(
    [property: Id(0)] string AppId,
    [property: Id(1)] string Team,
    [property: Id(2)] string Audience,
    [property: Id(3)] IReadOnlyList<string> DeclaredDataClasses,
    [property: Id(4)] IReadOnlyList<string>? RequestPii,
    [property: Id(5)] string? ModelTier,
    [property: Id(6)] bool? ModelExternal,
    [property: Id(7)] long? TokensEstimate,
    [property: Id(8)] decimal? CostEstimateUsd,
    [property: Id(9)] string PromptVersion,
    [property: Id(10)] string? StickyKey);

/// <summary>One policy whose conditions held, and why.</summary>
/// <param name="PolicyId">The policy's <c>id</c>.</param>
/// <param name="Description">The policy's <c>description</c>.</param>
/// <param name="Action">The policy's action.</param>
/// <param name="Why">The conditions as they matched, e.g. <c>app.data_contains ∋ email; model.tier = premium</c>.</param>
/// <param name="Tier">Target tier of a route or sample action.</param>
/// <param name="Applied">False when a more restrictive match overrode it.</param>
[GenerateSerializer, Immutable, Alias("microapps.PolicyMatch")]
public sealed record PolicyMatch(
    [property: Id(0)] string PolicyId,
    [property: Id(1)] string Description,
    [property: Id(2)] PolicyAction Action,
    [property: Id(3)] string Why,
    [property: Id(4)] string? Tier,
    [property: Id(5)] bool Applied);

/// <summary>
/// The combined outcome of every matching policy (precedence: block, then require_approval, then redact, then
/// route, then sample, then allow; see the README).
/// </summary>
/// <param name="PolicyVersion">Version of the policy set evaluated (0 when none is published).</param>
/// <param name="Blocked">A block matched: the call is refused with <see cref="BlockedBy"/>.</param>
/// <param name="RouteTier">Tier the call must use instead of the requested one; null to keep it.</param>
/// <param name="Redact">PII must be masked before the model sees the request.</param>
/// <param name="BlockedBy">The block that applied.</param>
/// <param name="RequiresApproval">A promotion needs a named approver even when it could be auto-approved.</param>
/// <param name="Matches">Every matching policy in document order, each marked applied or overridden.</param>
/// <param name="Summary">One line for the trace, e.g. <c>block:prevent_external_llm_for_pii</c>.</param>
[GenerateSerializer, Immutable, Alias("microapps.PolicyDecision")]
public sealed record PolicyDecision(
    [property: Id(0)] int PolicyVersion,
    [property: Id(1)] bool Blocked,
    [property: Id(2)] PolicyMatch? BlockedBy,
    [property: Id(3)] string? RouteTier,
    [property: Id(4)] bool Redact,
    [property: Id(5)] bool RequiresApproval,
    [property: Id(6)] IReadOnlyList<PolicyMatch> Matches,
    [property: Id(7)] string Summary);

/// <summary>Where and what is wrong in a policy document (1-based line and column).</summary>
[GenerateSerializer, Immutable, Alias("microapps.PolicyError")]
public sealed record PolicyError(
    [property: Id(0)] int Line,
    [property: Id(1)] int Column,
    [property: Id(2)] string Message);

/// <summary>One stored version of the policy set.</summary>
[GenerateSerializer, Immutable, Alias("microapps.PolicySetVersion")]
public sealed record PolicySetVersion(
    [property: Id(0)] int Version,
    [property: Id(1)] string Yaml,
    [property: Id(2)] string Author,
    [property: Id(3)] string Comment,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] string ContentHash);

/// <summary>Answer to <see cref="IPolicySetGrain.PublishAsync"/>: the new version, or the errors and the version still running.</summary>
[GenerateSerializer, Immutable, Alias("microapps.PolicyPublishResult")]
public sealed record PolicyPublishResult(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] int ActiveVersion,
    [property: Id(2)] IReadOnlyList<PolicyError> Errors);

/// <summary>
/// The organisation's policy set (key: <c>default</c>): versioned YAML, validated before it is accepted.
/// The governed call reads the active version through a per-silo cache.
/// </summary>
public interface IPolicySetGrain : IGrainWithStringKey
{
    /// <summary>Validates and, when valid, stores a new version and makes it active. An invalid document changes nothing.</summary>
    Task<PolicyPublishResult> PublishAsync(string yaml, string author, string comment);

    /// <summary>The active version; null before any was published (then no policy applies).</summary>
    [ReadOnly]
    Task<PolicySetVersion?> GetActiveAsync();

    [ReadOnly]
    Task<IReadOnlyList<PolicySetVersion>> ListVersionsAsync();

    /// <summary>Evaluates the active version against facts (used by dry-run and promotion gates).</summary>
    [ReadOnly]
    Task<PolicyDecision> EvaluateAsync(PolicyFacts facts);
}
