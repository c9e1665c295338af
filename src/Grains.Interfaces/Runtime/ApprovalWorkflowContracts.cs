using System.Diagnostics.CodeAnalysis;

namespace MicroApps.Orleans.Runtime;

/// <summary>Where an approvals-bot workflow is. <see cref="Approved"/>, <see cref="Rejected"/> and <see cref="TimedOut"/> are final.</summary>
public enum ApprovalWorkflowState
{
    /// <summary>Waiting for one of the named approvers until the decision deadline.</summary>
    Pending = 0,

    /// <summary>The approvers did not decide in time: the escalation approvers (and still the approvers) may decide until the escalation deadline.</summary>
    Escalated = 1,

    /// <summary>Approved by a named person.</summary>
    Approved = 2,

    /// <summary>Rejected by a named person.</summary>
    Rejected = 3,

    /// <summary>Nobody decided before the last deadline.</summary>
    TimedOut = 4,
}

/// <summary>The wire names of workflow states and notification events (<c>pending</c>, <c>escalated</c>, <c>approved</c>, <c>rejected</c>, <c>timed_out</c>).</summary>
public static class ApprovalWorkflowStates
{
    public const string Pending = "pending";
    public const string Escalated = "escalated";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string TimedOut = "timed_out";

    /// <summary>Every wire name, in state order.</summary>
    public static IReadOnlyList<string> All { get; } = [Pending, Escalated, Approved, Rejected, TimedOut];

    public static string Name(ApprovalWorkflowState state) => state switch
    {
        ApprovalWorkflowState.Pending => Pending,
        ApprovalWorkflowState.Escalated => Escalated,
        ApprovalWorkflowState.Approved => Approved,
        ApprovalWorkflowState.Rejected => Rejected,
        _ => TimedOut,
    };

    /// <summary>Parses a wire name (exact, lower case).</summary>
    public static bool TryParse(string? name, out ApprovalWorkflowState state)
    {
        var index = name is null ? -1 : ((IList<string>)All).IndexOf(name);
        state = index < 0 ? default : (ApprovalWorkflowState)index;
        return index >= 0;
    }

    /// <summary>Approved, rejected or timed out: nothing changes it any more.</summary>
    public static bool IsFinal(ApprovalWorkflowState state) => state >= ApprovalWorkflowState.Approved;

    /// <summary>Who may decide a workflow in <paramref name="state"/>: the approvers while pending; the approvers and the escalation approvers once escalated; nobody once final.</summary>
    public static IReadOnlyList<string> Deciders(ApprovalWorkflowState state, IReadOnlyList<string> approvers, IReadOnlyList<string> escalateTo) => state switch
    {
        ApprovalWorkflowState.Pending => approvers,
        ApprovalWorkflowState.Escalated => [.. approvers.Concat(escalateTo).Distinct(StringComparer.Ordinal)],
        _ => [],
    };
}

/// <summary>What starts a workflow: the run that drafted the recommendation and the template's settings as the run saw them.</summary>
/// <param name="AppId">The app.</param>
/// <param name="Version">The app version that served the run; notifications go through that version's connectors.</param>
/// <param name="RunId">The run that asked; starting again with the same run id is a no-op that returns the workflow.</param>
/// <param name="Requester">Who asked (the run's <c>fields.requester</c>).</param>
/// <param name="RequestText">What they asked for.</param>
/// <param name="Recommendation">The model's drafted recommendation.</param>
/// <param name="Approvers">Principal names who may decide (at least one).</param>
/// <param name="EscalateTo">Principal names who may decide once the approvers' time is up; empty: the first timeout ends the workflow.</param>
/// <param name="DecisionTimeout">How long the approvers have.</param>
/// <param name="EscalationTimeout">How long the escalation has.</param>
/// <param name="Notify">The app's webhook connector the requester is notified through; empty for no notifications.</param>
[GenerateSerializer, Immutable, Alias("microapps.ApprovalWorkflowStart")]
public sealed record ApprovalWorkflowStart(
    [property: Id(0)] string AppId,
    [property: Id(1)] int Version,
    [property: Id(2)] string RunId,
    [property: Id(3)] string Requester,
    [property: Id(4)] string RequestText,
    [property: Id(5)] string Recommendation,
    [property: Id(6)] IReadOnlyList<string> Approvers,
    [property: Id(7)] IReadOnlyList<string> EscalateTo,
    [property: Id(8)] TimeSpan DecisionTimeout,
    [property: Id(9)] TimeSpan EscalationTimeout,
    [property: Id(10)] string Notify);

/// <summary>The human decision on a workflow.</summary>
/// <param name="By">The principal who decided.</param>
/// <param name="Approve">Approved (true) or rejected (false).</param>
/// <param name="Comment">Why (never empty).</param>
/// <param name="At">When (platform clock).</param>
[GenerateSerializer, Immutable, Alias("microapps.WorkflowDecision")]
public sealed record WorkflowDecision(
    [property: Id(0)] string By,
    [property: Id(1)] bool Approve,
    [property: Id(2)] string Comment,
    [property: Id(3)] DateTimeOffset At);

/// <summary>Delivery state of one notification to the requester.</summary>
public enum NotificationState
{
    /// <summary>Stored, not delivered yet: retried until the webhook answers.</summary>
    Pending = 0,

    /// <summary>The webhook answered.</summary>
    Delivered = 1,

    /// <summary>Can never be delivered by this app version: its connector is not declared or its host is outside the egress allowlist.</summary>
    Failed = 2,
}

/// <summary>One notification of the requester (one per event), as the durable outbox keeps it.</summary>
/// <param name="Event">What happened: <c>escalated</c>, <c>approved</c>, <c>rejected</c> or <c>timed_out</c>.</param>
/// <param name="State">Delivery state.</param>
/// <param name="Attempts">Attempts so far.</param>
/// <param name="LastError">Why the last attempt failed; null after a delivery.</param>
/// <param name="CreatedAt">When the event happened.</param>
/// <param name="LastAttemptAt">When it was last tried.</param>
/// <param name="NextAttemptAt">When it is tried again (pending only).</param>
/// <param name="DeliveredAt">When the webhook answered.</param>
/// <param name="IdempotencyKey">Sent with every attempt (<c>{workflowId}/{event}</c>) so the receiver can drop repeats.</param>
[GenerateSerializer, Immutable, Alias("microapps.WorkflowNotification")]
public sealed record WorkflowNotification(
    [property: Id(0)] string Event,
    [property: Id(1)] NotificationState State,
    [property: Id(2)] int Attempts,
    [property: Id(3)] string? LastError,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset? LastAttemptAt,
    [property: Id(6)] DateTimeOffset? NextAttemptAt,
    [property: Id(7)] DateTimeOffset? DeliveredAt,
    [property: Id(8)] string IdempotencyKey);

/// <summary>One step of a workflow's history.</summary>
/// <param name="At">When (platform clock).</param>
/// <param name="Event"><c>started</c>, <c>escalated</c>, <c>approved</c>, <c>rejected</c> or <c>timed_out</c>.</param>
/// <param name="Actor">A principal name, or <c>system</c> for timeouts.</param>
/// <param name="Detail">The comment, or what timed out.</param>
[GenerateSerializer, Immutable, Alias("microapps.WorkflowHistoryEntry")]
public sealed record WorkflowHistoryEntry(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Event,
    [property: Id(2)] string Actor,
    [property: Id(3)] string Detail);

/// <summary>An approvals-bot workflow as callers and approvers see it.</summary>
/// <param name="WorkflowId">Its id within the app.</param>
/// <param name="AppId">The app.</param>
/// <param name="Version">The app version that started it.</param>
/// <param name="RunId">The run that started it.</param>
/// <param name="State">Where it is.</param>
/// <param name="Requester">Who asked.</param>
/// <param name="RequestText">What they asked for.</param>
/// <param name="Recommendation">The model's drafted recommendation.</param>
/// <param name="Approvers">Who may decide.</param>
/// <param name="EscalateTo">Who may also decide once escalated.</param>
/// <param name="CreatedAt">When it started.</param>
/// <param name="Deadline">When the current wait ends (pending: the decision deadline; escalated: the escalation deadline); null once final.</param>
/// <param name="Decision">The decision, once approved or rejected.</param>
/// <param name="Notifications">Notifications of the requester, oldest first.</param>
/// <param name="History">Every step, oldest first.</param>
[GenerateSerializer, Immutable, Alias("microapps.ApprovalWorkflowView")]
public sealed record ApprovalWorkflowView(
    [property: Id(0)] string WorkflowId,
    [property: Id(1)] string AppId,
    [property: Id(2)] int Version,
    [property: Id(3)] string RunId,
    [property: Id(4)] ApprovalWorkflowState State,
    [property: Id(5)] string Requester,
    [property: Id(6)] string RequestText,
    [property: Id(7)] string Recommendation,
    [property: Id(8)] IReadOnlyList<string> Approvers,
    [property: Id(9)] IReadOnlyList<string> EscalateTo,
    [property: Id(10)] DateTimeOffset CreatedAt,
    [property: Id(11)] DateTimeOffset? Deadline,
    [property: Id(12)] WorkflowDecision? Decision,
    [property: Id(13)] IReadOnlyList<WorkflowNotification> Notifications,
    [property: Id(14)] IReadOnlyList<WorkflowHistoryEntry> History)
{
    /// <summary>Who may decide now: the approvers while pending; the approvers and the escalation approvers once escalated; nobody once final.</summary>
    public IReadOnlyList<string> DecidersNow => ApprovalWorkflowStates.Deciders(State, Approvers, EscalateTo);
}

/// <summary>How a start ended.</summary>
public enum WorkflowStartOutcome
{
    /// <summary>The workflow started.</summary>
    Started = 0,

    /// <summary>It had already started for the same run: nothing changed.</summary>
    AlreadyStarted = 1,

    /// <summary>The workflow id is taken by another run.</summary>
    Conflict = 2,

    /// <summary>The start is incomplete (no requester, no approvers, a non-positive timeout); <c>Message</c> names the field.</summary>
    Invalid = 3,
}

/// <summary>The answer of <see cref="IApprovalWorkflowGrain.StartAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.WorkflowStartResult")]
public sealed record WorkflowStartResult(
    [property: Id(0)] WorkflowStartOutcome Outcome,
    [property: Id(1)] ApprovalWorkflowView? Workflow,
    [property: Id(2)] string? Message = null,
    [property: Id(3)] string? Field = null);

/// <summary>How a decision ended.</summary>
public enum WorkflowDecisionOutcome
{
    /// <summary>Recorded: the workflow is now approved or rejected.</summary>
    Decided = 0,

    /// <summary>The same person already made the same decision: nothing changed.</summary>
    Repeated = 1,

    /// <summary>No such workflow.</summary>
    NotFound = 2,

    /// <summary>The principal may not decide (not a named approver, nor an escalation approver of an escalated workflow).</summary>
    NotAnApprover = 3,

    /// <summary>Already decided otherwise, or timed out.</summary>
    Conflict = 4,

    /// <summary>No comment, or one too long.</summary>
    Invalid = 5,
}

/// <summary>The answer of <see cref="IApprovalWorkflowGrain.DecideAsync"/>: the workflow as it now is (null when not found) and why a refusal happened.</summary>
[GenerateSerializer, Immutable, Alias("microapps.WorkflowDecisionResult")]
public sealed record WorkflowDecisionResult(
    [property: Id(0)] WorkflowDecisionOutcome Outcome,
    [property: Id(1)] ApprovalWorkflowView? Workflow,
    [property: Id(2)] string? Message = null)
{
    public bool Changed => Outcome == WorkflowDecisionOutcome.Decided;
}

/// <summary>Limits and ids of approvals-bot workflows.</summary>
public static class ApprovalWorkflows
{
    /// <summary>The longest decision comment.</summary>
    public const int MaxCommentLength = 1000;

    /// <summary>The grain key of a workflow: <c>{appId}/{workflowId}</c>.</summary>
    public static string Key(string appId, string workflowId) => $"{appId}/{workflowId}";

    /// <summary>Splits a workflow grain key.</summary>
    public static bool TryParseKey(string key, [NotNullWhen(true)] out string? appId, [NotNullWhen(true)] out string? workflowId)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        appId = slash > 0 ? key[..slash] : null;
        workflowId = slash > 0 && slash < key.Length - 1 ? key[(slash + 1)..] : null;
        return appId is not null && workflowId is not null;
    }

    /// <summary>
    /// The workflow id of a run: <c>wf-</c> and 24 hex digits of the SHA-256 of the run id, so a retried run reaches
    /// the same workflow and any run id (even one with '/' in it) makes a URL-safe id.
    /// </summary>
    public static string IdForRun(string runId)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(runId));
        return "wf-" + Convert.ToHexStringLower(hash)[..24];
    }

    /// <summary>Whether a workflow id is well-formed (1–64 letters, digits, '-', '_' or '.'), so a URL segment can name it.</summary>
    public static bool IsValidId(string? workflowId) =>
        !string.IsNullOrEmpty(workflowId) && workflowId.Length <= 64 && workflowId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}

/// <summary>
/// One approvals-bot workflow (key <c>{appId}/{workflowId}</c>): a request, the model's recommendation, and the human
/// decision on it, durable, with a decision deadline, an escalation and a final timeout. Every call first applies a
/// deadline that has passed, so what it answers is current.
/// </summary>
public interface IApprovalWorkflowGrain : IGrainWithStringKey
{
    /// <summary>Starts the workflow; durable before the reply. Idempotent by <see cref="ApprovalWorkflowStart.RunId"/>.</summary>
    Task<WorkflowStartResult> StartAsync(ApprovalWorkflowStart start);

    /// <summary>
    /// <paramref name="principal"/> approves or rejects, with a non-empty <paramref name="comment"/>. Only a named approver
    /// may, or an escalation approver once escalated. A different second decision is a conflict; the same one repeated is a no-op.
    /// </summary>
    Task<WorkflowDecisionResult> DecideAsync(string principal, bool approve, string comment);

    /// <summary>The workflow, or null when it was never started.</summary>
    Task<ApprovalWorkflowView?> GetAsync();
}

/// <summary>One workflow as its app's inbox lists it; <paramref name="Revision"/> counts the workflow's changes, so a late write of an older summary is ignored.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ApprovalWorkflowSummary")]
public sealed record ApprovalWorkflowSummary(
    [property: Id(0)] string WorkflowId,
    [property: Id(1)] ApprovalWorkflowState State,
    [property: Id(2)] string Requester,
    [property: Id(3)] IReadOnlyList<string> Approvers,
    [property: Id(4)] IReadOnlyList<string> EscalateTo,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] DateTimeOffset? Deadline,
    [property: Id(7)] DateTimeOffset UpdatedAt,
    [property: Id(8)] string? DecidedBy,
    [property: Id(9)] long Revision);

/// <summary>
/// The workflows of one app (key: app id), for listing. Each workflow writes its summary here after every change; open
/// workflows are always kept, and the most recent final ones up to a cap.
/// </summary>
public interface IApprovalInboxGrain : IGrainWithStringKey
{
    /// <summary>Adds or replaces a workflow's summary (a summary older than the one kept is ignored).</summary>
    Task RecordAsync(ApprovalWorkflowSummary summary);

    /// <summary>The workflows, newest first, optionally only those in <paramref name="state"/>.</summary>
    [ReadOnly]
    Task<IReadOnlyList<ApprovalWorkflowSummary>> ListAsync(ApprovalWorkflowState? state);
}
