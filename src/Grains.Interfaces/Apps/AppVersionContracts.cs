namespace MicroApps.Orleans.Apps;

/// <summary>
/// Where one version of an app is in its lifecycle:
/// <c>Draft → Submitted → Approved → Canary → Published</c>, with <c>Rejected</c>, <c>RolledBack</c> and
/// <c>Superseded</c> (a published version replaced by a newer one). Only Published and Canary versions serve
/// production keys; the others serve only test keys.
/// </summary>
public enum VersionState
{
    Draft = 0,
    Submitted = 1,
    Approved = 2,
    Rejected = 3,
    Canary = 4,
    Published = 5,
    RolledBack = 6,
    Superseded = 7,
}

/// <summary>What a key may reach.</summary>
public enum KeyKind
{
    /// <summary>Serves the published version, or the canary for its share of callers.</summary>
    Production = 0,

    /// <summary>An author's test key: serves an unreleased version under the tight test quotas.</summary>
    Test = 1,

    /// <summary>A promotion gate's short-lived key: serves the version under test, without quotas, charged to the app's budget.</summary>
    Gate = 2,
}

/// <summary>The result of one promotion gate (data_access, pii_scan, cost_estimate, regression_tests, policy).</summary>
[GenerateSerializer, Immutable, Alias("microapps.GateResult")]
public sealed record GateResult(
    [property: Id(0)] string Gate,
    [property: Id(1)] bool Passed,
    [property: Id(2)] string Detail,
    [property: Id(3)] DateTimeOffset At);

/// <summary>A decision on a submitted version: by a named approver with a comment, or automatic.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ApprovalDecision")]
public sealed record ApprovalDecision(
    [property: Id(0)] string Approver,
    [property: Id(1)] bool Approved,
    [property: Id(2)] string Comment,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] bool Automatic);

/// <summary>One lifecycle event of a version, for its history.</summary>
[GenerateSerializer, Immutable, Alias("microapps.VersionTransition")]
public sealed record VersionTransition(
    [property: Id(0)] VersionState From,
    [property: Id(1)] VersionState To,
    [property: Id(2)] string Actor,
    [property: Id(3)] string Reason,
    [property: Id(4)] DateTimeOffset At);

/// <summary>One numbered version of an app: an immutable manifest and where it is in the lifecycle.</summary>
[GenerateSerializer, Immutable, Alias("microapps.AppVersionInfo")]
public sealed record AppVersionInfo(
    [property: Id(0)] int Version,
    [property: Id(1)] AppManifest Manifest,
    [property: Id(2)] VersionState State,
    [property: Id(3)] string Author,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] IReadOnlyList<GateResult> Gates,
    [property: Id(6)] ApprovalDecision? Approval,
    [property: Id(7)] IReadOnlyList<VersionTransition> History,
    [property: Id(8)] bool NeedsApprover);

/// <summary>What serves production traffic: the published version and, beside it, a canary with its share.</summary>
/// <param name="PublishedVersion">Version serving production keys; null before the first publication.</param>
/// <param name="CanaryVersion">Version taking <paramref name="CanaryShare"/> of production callers; null when none.</param>
/// <param name="CanaryShare">Share (0–1) of callers, sticky by user or request id, sent to the canary.</param>
[GenerateSerializer, Immutable, Alias("microapps.AppRelease")]
public sealed record AppRelease(
    [property: Id(0)] int? PublishedVersion,
    [property: Id(1)] int? CanaryVersion,
    [property: Id(2)] double CanaryShare);

/// <summary>A submitted version waiting for an approver, as the approvals queue lists it.</summary>
[GenerateSerializer, Immutable, Alias("microapps.PendingApproval")]
public sealed record PendingApproval(
    [property: Id(0)] string AppId,
    [property: Id(1)] int Version,
    [property: Id(2)] string Author,
    [property: Id(3)] string Team,
    [property: Id(4)] Audience Audience,
    [property: Id(5)] DateTimeOffset SubmittedAt,
    [property: Id(6)] IReadOnlyList<GateResult> Gates);

/// <summary>Submitted versions waiting for an approver (key: 0). The app grains keep it current.</summary>
public interface IApprovalQueueGrain : IGrainWithIntegerKey
{
    Task AddAsync(PendingApproval pending);

    Task RemoveAsync(string appId, int version);

    [ReadOnly]
    Task<IReadOnlyList<PendingApproval>> ListAsync();
}
