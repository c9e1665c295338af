namespace MicroApps.Orleans.Apps;

/// <summary>Where a submitted version ended up once its gates were recorded.</summary>
public enum SubmissionOutcome
{
    /// <summary>Every gate passed and the app could be approved without a person (internal, no policy asked for one).</summary>
    AutoApproved = 0,

    /// <summary>Every gate passed; the version waits in the approvals queue for an approver.</summary>
    AwaitingApproval = 1,

    /// <summary>A gate failed; the version is a draft again and the failing gates say why.</summary>
    ReturnedToDraft = 2,
}

/// <summary>The names of the promotion gates, in the order they run.</summary>
public static class GateNames
{
    public const string DataAccess = "data_access";
    public const string PiiScan = "pii_scan";
    public const string RegressionTests = "regression_tests";
    public const string CostEstimate = "cost_estimate";
    public const string Policy = "policy";

    public static IReadOnlyList<string> InOrder { get; } = [DataAccess, PiiScan, RegressionTests, CostEstimate, Policy];
}

/// <summary>One assertion of a regression test as it was checked.</summary>
/// <param name="Index">0-based position in the test's assertions.</param>
/// <param name="Kind">The assertion kind, e.g. <c>contains</c>.</param>
/// <param name="Value">The assertion's argument.</param>
/// <param name="Passed">Whether it held.</param>
/// <param name="Detail">What was seen (never the whole answer).</param>
[GenerateSerializer, Immutable, Alias("microapps.AssertionRun")]
public sealed record AssertionRun(
    [property: Id(0)] int Index,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Value,
    [property: Id(3)] bool Passed,
    [property: Id(4)] string Detail);

/// <summary>One prompt regression test as the promotion ran it.</summary>
/// <param name="Name">The test's name.</param>
/// <param name="Passed">The call succeeded and every assertion held.</param>
/// <param name="Error">Why the test could not be judged (invalid test, refused or failed call); null when it ran.</param>
/// <param name="Model">The model that answered; empty when none did.</param>
/// <param name="Usage">Tokens of the call (estimated when the answer came from the cache).</param>
/// <param name="CostUsd">What the call costs at the model's prices (estimated when the answer came from the cache).</param>
/// <param name="Assertions">Every assertion checked; empty when the call failed.</param>
[GenerateSerializer, Immutable, Alias("microapps.RegressionTestRun")]
public sealed record RegressionTestRun(
    [property: Id(0)] string Name,
    [property: Id(1)] bool Passed,
    [property: Id(2)] string? Error,
    [property: Id(3)] string Model,
    [property: Id(4)] Gateway.TokenUsage Usage,
    [property: Id(5)] decimal CostUsd,
    [property: Id(6)] IReadOnlyList<AssertionRun> Assertions);

/// <summary>Answer to <see cref="IPromotionGrain.SubmitAsync"/>.</summary>
/// <param name="AppId">The app.</param>
/// <param name="Version">The version after its gates were recorded (its state, gates, history).</param>
/// <param name="Gates">Every gate's result, in run order.</param>
/// <param name="Outcome">Approved automatically, queued for an approver, or returned to draft.</param>
/// <param name="NeedsApprover">A policy (or a failure to evaluate the policies) asked for a named approver.</param>
/// <param name="Tests">Each regression test's run, for the author to read.</param>
[GenerateSerializer, Immutable, Alias("microapps.SubmissionResult")]
public sealed record SubmissionResult(
    [property: Id(0)] string AppId,
    [property: Id(1)] AppVersionInfo Version,
    [property: Id(2)] IReadOnlyList<GateResult> Gates,
    [property: Id(3)] SubmissionOutcome Outcome,
    [property: Id(4)] bool NeedsApprover,
    [property: Id(5)] IReadOnlyList<RegressionTestRun> Tests)
{
    /// <summary>The gates that failed.</summary>
    public IReadOnlyList<GateResult> FailedGates => Gates.Where(g => !g.Passed).ToList();
}

/// <summary>
/// Runs a version's promotion (key: app id): Draft → Submitted, then the gates data_access, pii_scan,
/// regression_tests, cost_estimate and policy (all of them, even after a failure), recorded on the app grain,
/// which approves, queues or returns the version to draft.
/// </summary>
public interface IPromotionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Submits <paramref name="version"/> on behalf of <paramref name="actor"/> and runs its gates. Throws
    /// <see cref="KeyNotFoundException"/> for an unknown app or version and <see cref="InvalidOperationException"/>
    /// when the version's state does not allow a submission. A version left Submitted without gates by an
    /// interrupted run is resumed rather than refused.
    /// </summary>
    Task<SubmissionResult> SubmitAsync(int version, string actor);
}
