using System.Globalization;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Runtime;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// An approvals-bot workflow as <c>GET /admin/workflows</c> lists it across apps. Open workflows (pending, escalated)
/// carry the request and the recommendation; final ones leave them null (read the workflow for them).
/// <c>mayDecide</c> lists who may decide now (empty once final).
/// </summary>
public sealed record WorkflowAcrossAppsView(
    string AppId, string AppName, string WorkflowId, string State, string Requester, string? RequestText, string? Recommendation,
    IReadOnlyList<string> Approvers, IReadOnlyList<string> EscalateTo, IReadOnlyList<string> MayDecide,
    DateTimeOffset CreatedAt, DateTimeOffset? Deadline, DateTimeOffset UpdatedAt, string? DecidedBy);

/// <summary>
/// Reads the admin console needs about approvals-bot workflows that the per-app endpoints do not give: every app's
/// workflows in one list, the open ones first, optionally only those a given person may decide now. Decisions stay on
/// <c>POST /admin/apps/{appId}/workflows/{workflowId}/approve|reject</c>.
/// </summary>
internal static class ConsoleWorkflowEndpoints
{
    /// <summary>Open workflows are read in full (which applies a passed deadline) up to this many per call.</summary>
    private const int MaxOpenRead = 200;

    private const int DefaultLimit = 100;
    private const int MaxLimit = 500;

    /// <summary>The <c>state</c> filter that keeps pending and escalated workflows.</summary>
    public const string Open = "open";

    internal static void MapConsoleWorkflowEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/workflows", ListAsync)
            .WithName("ListWorkflowsAcrossApps").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Approvals-bot workflows of every app: open ones first (soonest deadline first), then the most recently changed.")
            .WithDescription("?state=open|pending|escalated|approved|rejected|timed_out filters by state; ?approver=name keeps the workflows " +
                             "that person may decide now; ?limit=1..500 (default 100) caps the answer.")
            .Produces<WorkflowAcrossAppsView[]>().ProducesValidationProblem();
    }

    internal static async Task<IResult> ListAsync(string? state, string? approver, string? limit, HttpContext context, IGrainFactory grains, ClusterCalls cluster, TimeProvider time)
    {
        var errors = new AdminEndpoints.Errors();
        var wanted = state?.Trim();
        if (wanted is { Length: 0 })
        {
            wanted = null;
        }

        if (wanted is not null && wanted != Open && !ApprovalWorkflowStates.TryParse(wanted, out _))
        {
            errors.Add("state", $"'{state}' is not a workflow state; use {Open} or one of {string.Join(", ", ApprovalWorkflowStates.All)}.");
        }

        var take = DefaultLimit;
        if (!string.IsNullOrWhiteSpace(limit) &&
            (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take < 1 || take > MaxLimit))
        {
            errors.Add("limit", $"Must be a whole number from 1 to {MaxLimit}; got '{limit}'.");
        }

        var person = string.IsNullOrWhiteSpace(approver) ? null : approver.Trim();
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var cancellationToken = context.RequestAborted;
        var ids = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<string>>(grains.GetGrain<IAppRegistryGrain>(0).ListAsync()), cancellationToken);
        var apps = await Task.WhenAll(ids.Select(id =>
            cluster.RunAsync(_ => new ValueTask<AppInfo?>(grains.GetGrain<IMicroAppGrain>(id).GetAsync()), cancellationToken).AsTask()));

        // Only apps that ever used the template have workflows; their inboxes are the only ones worth activating.
        var bots = apps.Where(a => a is not null && UsesApprovalsBot(a)).Select(a => a!).ToList();
        var inboxes = await Task.WhenAll(bots.Select(async app =>
        {
            var inbox = grains.GetGrain<IApprovalInboxGrain>(app.AppId);
            var listed = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<ApprovalWorkflowSummary>>(inbox.ListAsync(null)), cancellationToken);
            return listed.Select(s => (App: app, Summary: s));
        }));

        var all = inboxes.SelectMany(x => x).ToList();
        var open = all.Where(x => !ApprovalWorkflowStates.IsFinal(x.Summary.State)).OrderBy(x => x.Summary.Deadline ?? DateTimeOffset.MaxValue).Take(MaxOpenRead).ToList();

        // Reading an open workflow applies a deadline that has passed, so the list never shows a pending one whose time is up,
        // and gives the request and recommendation an approver decides on.
        var fresh = await Task.WhenAll(open.Select(async x =>
        {
            var workflow = grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(x.App.AppId, x.Summary.WorkflowId));
            var view = await cluster.RunAsync(_ => new ValueTask<ApprovalWorkflowView?>(workflow.GetAsync()), cancellationToken);
            return view is null ? From(x.App, x.Summary) : From(x.App, view);
        }));

        var readIds = open.Select(x => (x.App.AppId, x.Summary.WorkflowId)).ToHashSet();
        var views = fresh
            .Concat(all.Where(x => !readIds.Contains((x.App.AppId, x.Summary.WorkflowId))).Select(x => From(x.App, x.Summary)))
            .Where(v => wanted is null || (wanted == Open ? v.MayDecide.Count > 0 : v.State == wanted))
            .Where(v => person is null || v.MayDecide.Contains(person, StringComparer.Ordinal))
            .OrderBy(v => v.MayDecide.Count > 0 ? 0 : 1)
            .ThenBy(v => v.MayDecide.Count > 0 ? v.Deadline ?? DateTimeOffset.MaxValue : DateTimeOffset.MaxValue)
            .ThenByDescending(v => v.UpdatedAt)
            .ThenBy(v => v.AppId, StringComparer.Ordinal)
            .ThenBy(v => v.WorkflowId, StringComparer.Ordinal)
            .Take(take)
            .ToArray();
        return TypedResults.Ok(views);
    }

    private static bool UsesApprovalsBot(AppInfo app) =>
        IsApprovalsBot(app.Manifest) || (app.Versions ?? []).Any(v => IsApprovalsBot(v.Manifest));

    private static bool IsApprovalsBot(AppManifest manifest) =>
        string.Equals(manifest.Template?.Name, BuiltIns.ApprovalsBot, StringComparison.Ordinal);

    private static WorkflowAcrossAppsView From(AppInfo app, ApprovalWorkflowView w) => new(
        app.AppId, app.Manifest.Name, w.WorkflowId, ApprovalWorkflowStates.Name(w.State), w.Requester, w.RequestText, w.Recommendation,
        w.Approvers, w.EscalateTo, w.DecidersNow, w.CreatedAt, w.Deadline,
        w.History.Count > 0 ? w.History[^1].At : w.CreatedAt, w.Decision?.By);

    private static WorkflowAcrossAppsView From(AppInfo app, ApprovalWorkflowSummary s) => new(
        app.AppId, app.Manifest.Name, s.WorkflowId, ApprovalWorkflowStates.Name(s.State), s.Requester, null, null,
        s.Approvers, s.EscalateTo, ApprovalWorkflowStates.Deciders(s.State, s.Approvers, s.EscalateTo), s.CreatedAt, s.Deadline, s.UpdatedAt, s.DecidedBy);
}
