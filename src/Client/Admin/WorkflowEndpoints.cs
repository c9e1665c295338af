using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Runtime;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>A workflow's decision as the API shows it.</summary>
public sealed record WorkflowDecisionView(string By, bool Approve, string Comment, DateTimeOffset At);

/// <summary>One notification of the requester: its event, delivery state (<c>pending</c>, <c>delivered</c>, <c>failed</c>), attempts and last error.</summary>
public sealed record WorkflowNotificationView(
    string Event, NotificationState State, int Attempts, string? LastError, DateTimeOffset CreatedAt,
    DateTimeOffset? LastAttemptAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt);

/// <summary>One step of a workflow's history.</summary>
public sealed record WorkflowHistoryView(DateTimeOffset At, string Event, string Actor, string Detail);

/// <summary>
/// An approvals-bot workflow as the admin API and the app's callers see it. <c>state</c> is <c>pending</c>,
/// <c>escalated</c>, <c>approved</c>, <c>rejected</c> or <c>timed_out</c>; <c>mayDecide</c> lists who may decide now.
/// </summary>
public sealed record WorkflowView(
    string WorkflowId, string AppId, int Version, string RunId, string State, string Requester, string RequestText,
    string Recommendation, IReadOnlyList<string> Approvers, IReadOnlyList<string> EscalateTo, IReadOnlyList<string> MayDecide,
    DateTimeOffset CreatedAt, DateTimeOffset? Deadline, WorkflowDecisionView? Decision,
    IReadOnlyList<WorkflowNotificationView> Notifications, IReadOnlyList<WorkflowHistoryView> History)
{
    public static WorkflowView From(ApprovalWorkflowView w) => new(
        w.WorkflowId, w.AppId, w.Version, w.RunId, ApprovalWorkflowStates.Name(w.State), w.Requester, w.RequestText, w.Recommendation,
        w.Approvers, w.EscalateTo, w.DecidersNow, w.CreatedAt, w.Deadline,
        w.Decision is { } d ? new WorkflowDecisionView(d.By, d.Approve, d.Comment, d.At) : null,
        w.Notifications.Select(n => new WorkflowNotificationView(n.Event, n.State, n.Attempts, n.LastError, n.CreatedAt, n.LastAttemptAt, n.NextAttemptAt, n.DeliveredAt)).ToArray(),
        w.History.Select(h => new WorkflowHistoryView(h.At, h.Event, h.Actor, h.Detail)).ToArray());
}

/// <summary>A workflow as <c>GET /admin/apps/{appId}/workflows</c> lists it.</summary>
public sealed record WorkflowSummaryView(
    string WorkflowId, string State, string Requester, IReadOnlyList<string> Approvers, IReadOnlyList<string> EscalateTo,
    DateTimeOffset CreatedAt, DateTimeOffset? Deadline, DateTimeOffset UpdatedAt, string? DecidedBy)
{
    public static WorkflowSummaryView From(ApprovalWorkflowSummary s) => new(
        s.WorkflowId, ApprovalWorkflowStates.Name(s.State), s.Requester, s.Approvers, s.EscalateTo, s.CreatedAt, s.Deadline, s.UpdatedAt, s.DecidedBy);

    public static WorkflowSummaryView From(ApprovalWorkflowView w) => new(
        w.WorkflowId, ApprovalWorkflowStates.Name(w.State), w.Requester, w.Approvers, w.EscalateTo, w.CreatedAt, w.Deadline,
        w.History.Count > 0 ? w.History[^1].At : w.CreatedAt, w.Decision?.By);
}

/// <summary>
/// Approvals-bot workflows in the admin API: list and read them (everyone), approve or reject them. Any role may decide,
/// but only as a person the workflow names: an approver, or an escalation approver once escalated. The workflow grain
/// holds every rule and writes the decision to the audit log; this maps its answers to HTTP.
/// </summary>
internal static class WorkflowEndpoints
{
    /// <summary>Open workflows whose deadline has passed are read (which applies the deadline) before listing, at most this many per call.</summary>
    private const int MaxRefreshedPerList = 100;

    internal static void MapWorkflowEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/apps/{appId}/workflows", ListAsync)
            .WithName("ListWorkflows").AllowRoles(AdminAccess.Everyone)
            .WithSummary("The app's approvals-bot workflows, newest first; ?state=pending|escalated|approved|rejected|timed_out filters.")
            .Produces<WorkflowSummaryView[]>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/apps/{appId}/workflows/{workflowId}", GetAsync)
            .WithName("GetWorkflow").AllowRoles(AdminAccess.Everyone)
            .WithSummary("One workflow: request, recommendation, approvers, deadline, decision, notifications and history.")
            .Produces<WorkflowView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapPost("/apps/{appId}/workflows/{workflowId}/approve", (string appId, string workflowId, HttpContext context, IGrainFactory grains, ClusterCalls cluster) =>
                DecideAsync(appId, workflowId, approve: true, context, grains, cluster))
            .WithName("ApproveWorkflow").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Approves a workflow, with a comment. Only a named approver (or an escalation approver once escalated) may.")
            .Accepts<DecisionBody>("application/json")
            .Produces<WorkflowView>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPost("/apps/{appId}/workflows/{workflowId}/reject", (string appId, string workflowId, HttpContext context, IGrainFactory grains, ClusterCalls cluster) =>
                DecideAsync(appId, workflowId, approve: false, context, grains, cluster))
            .WithName("RejectWorkflow").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Rejects a workflow, with a comment saying why. Only a named approver (or an escalation approver once escalated) may.")
            .Accepts<DecisionBody>("application/json")
            .Produces<WorkflowView>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    internal static async Task<IResult> ListAsync(string appId, string? state, HttpContext context, IGrainFactory grains, ClusterCalls cluster, TimeProvider time)
    {
        ApprovalWorkflowState? only = null;
        if (state is not null)
        {
            if (!ApprovalWorkflowStates.TryParse(state.Trim(), out var parsed))
            {
                return AdminJson.Invalid("state", $"'{state}' is not a workflow state; use one of {string.Join(", ", ApprovalWorkflowStates.All)}.");
            }

            only = parsed;
        }

        var (_, _, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        var inbox = grains.GetGrain<IApprovalInboxGrain>(appId);
        var listed = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<ApprovalWorkflowSummary>>(inbox.ListAsync(null)), context.RequestAborted);

        // The inbox learns of a deadline once its workflow applies it (timer, reminder, or any read); reading the overdue
        // ones here applies theirs, so the list never shows a pending workflow whose time is up.
        var now = time.GetUtcNow();
        var views = new List<WorkflowSummaryView>(listed.Count);
        var refreshed = 0;
        foreach (var summary in listed)
        {
            if (!ApprovalWorkflowStates.IsFinal(summary.State) && summary.Deadline <= now && refreshed++ < MaxRefreshedPerList)
            {
                var workflow = grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(appId, summary.WorkflowId));
                if (await cluster.RunAsync(_ => new ValueTask<ApprovalWorkflowView?>(workflow.GetAsync()), context.RequestAborted) is { } fresh)
                {
                    views.Add(WorkflowSummaryView.From(fresh));
                    continue;
                }
            }

            views.Add(WorkflowSummaryView.From(summary));
        }

        var wanted = only is { } s ? ApprovalWorkflowStates.Name(s) : null;
        return TypedResults.Ok(views.Where(v => wanted is null || v.State == wanted).ToArray());
    }

    internal static async Task<IResult> GetAsync(string appId, string workflowId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var (_, _, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        if (!ApprovalWorkflows.IsValidId(workflowId))
        {
            return InvalidWorkflowId();
        }

        var workflow = grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(appId, workflowId));
        var view = await cluster.RunAsync(_ => new ValueTask<ApprovalWorkflowView?>(workflow.GetAsync()), context.RequestAborted);
        return view is null ? WorkflowNotFound(appId, workflowId) : TypedResults.Ok(WorkflowView.From(view));
    }

    internal static async Task<IResult> DecideAsync(string appId, string workflowId, bool approve, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var (_, info, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        if (!ApprovalWorkflows.IsValidId(workflowId))
        {
            return InvalidWorkflowId();
        }

        var principal = context.AdminPrincipal();
        var workflow = grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(appId, workflowId));
        var current = await cluster.RunAsync(_ => new ValueTask<ApprovalWorkflowView?>(workflow.GetAsync()), context.RequestAborted);

        // Being named on the workflow is what lets someone decide. Anyone else is an author acting on another's app (403,
        // as for every change) or finds nothing to decide.
        var named = current is not null && current.Approvers.Concat(current.EscalateTo).Contains(principal.Name, StringComparer.Ordinal);
        if (!named && principal.Role == AdminRole.Author && !principal.MayActOnApp(info!.Manifest.Owner))
        {
            return AdminAccess.NotOwner(principal, appId, info.Manifest.Owner);
        }

        if (current is null)
        {
            return WorkflowNotFound(appId, workflowId);
        }

        var read = await AdminJson.ReadAsync<DecisionBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        // A retry after a lost reply finds the decision made and answers it as a repeat, so retrying is safe.
        var comment = read.Value!.Comment ?? "";
        var result = await cluster.RunAsync(_ => new ValueTask<WorkflowDecisionResult>(workflow.DecideAsync(principal.Name, approve, comment)), context.RequestAborted);
        return result.Outcome switch
        {
            WorkflowDecisionOutcome.Decided or WorkflowDecisionOutcome.Repeated => TypedResults.Ok(WorkflowView.From(result.Workflow!)),
            WorkflowDecisionOutcome.NotFound => WorkflowNotFound(appId, workflowId),
            WorkflowDecisionOutcome.NotAnApprover => TypedResults.Problem(
                title: "Forbidden", detail: result.Message, statusCode: StatusCodes.Status403Forbidden,
                extensions: new Dictionary<string, object?>
                {
                    ["state"] = ApprovalWorkflowStates.Name(result.Workflow!.State),
                    ["mayDecide"] = result.Workflow.DecidersNow,
                }),
            WorkflowDecisionOutcome.Conflict => TypedResults.Problem(
                title: "Already decided", detail: result.Message, statusCode: StatusCodes.Status409Conflict,
                extensions: new Dictionary<string, object?> { ["state"] = ApprovalWorkflowStates.Name(result.Workflow!.State) }),
            _ => AdminJson.Invalid("comment", result.Message ?? "A comment is required."),
        };
    }

    private static IResult InvalidWorkflowId() =>
        AdminJson.Invalid("workflowId", "Must be 1–64 letters, digits, '-', '_' or '.'.");

    private static IResult WorkflowNotFound(string appId, string workflowId) =>
        TypedResults.Problem(title: "Workflow not found", detail: $"App '{appId}' has no workflow '{workflowId}'.", statusCode: StatusCodes.Status404NotFound);
}
