using System.Globalization;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Audit;
using MicroApps.Orleans.Client.Infrastructure;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>A gate's result as the admin API shows it.</summary>
public sealed record GateView(string Gate, bool Passed, string Detail, DateTimeOffset At)
{
    public static GateView From(GateResult g) => new(g.Gate, g.Passed, g.Detail, g.At);
}

/// <summary>One regression test as it ran during a submission.</summary>
public sealed record RegressionTestView(string Name, bool Passed, string? Error, string Model, int InputTokens, int OutputTokens, decimal CostUsd, IReadOnlyList<AssertionRun> Assertions)
{
    public static RegressionTestView From(RegressionTestRun r) =>
        new(r.Name, r.Passed, r.Error, r.Model, r.Usage.InputTokens, r.Usage.OutputTokens, r.CostUsd, r.Assertions);
}

/// <summary>Answer of <c>POST /admin/apps/{appId}/versions/{version}/submit</c>.</summary>
public sealed record SubmissionView(
    string AppId,
    int Version,
    VersionState State,
    SubmissionOutcome Outcome,
    bool NeedsApprover,
    IReadOnlyList<GateView> Gates,
    IReadOnlyList<RegressionTestView> Tests)
{
    public static SubmissionView From(SubmissionResult r) => new(
        r.AppId, r.Version.Version, r.Version.State, r.Outcome, r.NeedsApprover,
        r.Gates.Select(GateView.From).ToArray(), r.Tests.Select(RegressionTestView.From).ToArray());
}

/// <summary>A version waiting for an approver, as <c>GET /admin/approvals</c> lists it.</summary>
public sealed record PendingApprovalView(string AppId, int Version, string Author, string Team, Audience Audience, DateTimeOffset SubmittedAt, IReadOnlyList<GateView> Gates);

/// <summary>A decision as the admin API shows it.</summary>
public sealed record ApprovalView(string Approver, bool Approved, string Comment, DateTimeOffset At, bool Automatic);

/// <summary>Answer of approve and reject: the version's state and the decision.</summary>
public sealed record VersionDecisionView(string AppId, int Version, VersionState State, string Author, ApprovalView? Approval, IReadOnlyList<GateView> Gates);

/// <summary>Body of approve and reject: the approver's comment (required, at most 1000 characters).</summary>
public sealed record DecisionBody(string? Comment = null);

/// <summary>
/// Promotion and approvals: submit a version (its gates run), the approvals queue, approve and reject.
/// Every rule is the grains'; this maps their answers and refusals to HTTP and audits each change.
/// </summary>
internal static class ApprovalEndpoints
{
    public const int MaxCommentLength = 1000;

    internal static void MapApprovalEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapPost("/apps/{appId}/versions/{version}/submit", SubmitAsync)
            .WithName("SubmitVersion").AllowRoles(AdminRole.Author, AdminRole.Admin)
            .WithSummary("Submits a draft version for promotion: runs every gate; approves, queues or returns it to draft.")
            .Produces<SubmissionView>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        admin.MapGet("/approvals", ListApprovalsAsync)
            .WithName("ListApprovals").AllowRoles(AdminRole.Approver, AdminRole.Admin, AdminRole.Viewer)
            .WithSummary("Submitted versions waiting for an approver, with their gate results.")
            .Produces<PendingApprovalView[]>();

        admin.MapPost("/apps/{appId}/versions/{version}/approve", (string appId, string version, HttpContext context, IGrainFactory grains, ClusterCalls cluster) =>
                DecideAsync(appId, version, approve: true, context, grains, cluster))
            .WithName("ApproveVersion").AllowRoles(AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Approves a submitted version, with a comment. Nobody approves their own version.")
            .Accepts<DecisionBody>("application/json")
            .Produces<VersionDecisionView>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPost("/apps/{appId}/versions/{version}/reject", (string appId, string version, HttpContext context, IGrainFactory grains, ClusterCalls cluster) =>
                DecideAsync(appId, version, approve: false, context, grains, cluster))
            .WithName("RejectVersion").AllowRoles(AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Rejects a submitted version, with a comment.")
            .Accepts<DecisionBody>("application/json")
            .Produces<VersionDecisionView>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    internal static async Task<IResult> SubmitAsync(string appId, string version, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var target = await LoadAsync(appId, version, grains, cluster, context.RequestAborted);
        if (target.Error is not null)
        {
            return target.Error;
        }

        var principal = context.AdminPrincipal();
        if (!principal.MayActOnApp(target.App!.Manifest.Owner))
        {
            return AdminAccess.NotOwner(principal, appId, target.App.Manifest.Owner);
        }

        SubmissionResult result;
        try
        {
            // Not retried by the front door: the promotion grain resumes an interrupted run itself when submitted again.
            result = await grains.GetGrain<IPromotionGrain>(appId).SubmitAsync(target.Number, principal.Name);
        }
        catch (KeyNotFoundException ex)
        {
            return NotFound(ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            return Refused(ex.Message, target.Version!.State);
        }

        var failed = result.FailedGates;
        var auditTarget = $"app:{appId}";
        var summary = failed.Count > 0
            ? $"v{target.Number} blocked by gates: {string.Join("; ", failed.Select(g => $"{g.Gate}: {g.Detail}"))}"
            : $"v{target.Number} {Describe(result.Outcome)}";
        await context.AuditAsync(grains, "app.version.submitted", auditTarget, Truncate(summary));
        if (result.Outcome == SubmissionOutcome.AutoApproved)
        {
            await AuditLog.Get(grains).AppendAsync(new AuditRecord(
                "system", "system", "app.version.approved", auditTarget, $"v{target.Number} approved automatically: internal app, every gate passed, no policy requires an approver"));
        }

        var view = SubmissionView.From(result);
        if (result.Outcome != SubmissionOutcome.ReturnedToDraft)
        {
            return TypedResults.Ok(view);
        }

        return TypedResults.Problem(
            title: "promotion blocked by gates",
            detail: $"Version {target.Number} of '{appId}' is back in {Lower(result.Version.State)}: " +
                    string.Join("; ", failed.Select(g => $"{g.Gate}: {g.Detail}")),
            statusCode: StatusCodes.Status422UnprocessableEntity,
            extensions: new Dictionary<string, object?>
            {
                ["state"] = Lower(result.Version.State),
                ["errors"] = failed.ToDictionary(g => g.Gate, g => new[] { g.Detail }),
                ["gates"] = view.Gates,
                ["tests"] = view.Tests.Where(t => !t.Passed).ToArray(),
            });
    }

    internal static async Task<IResult> ListApprovalsAsync(IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var queue = grains.GetGrain<IApprovalQueueGrain>(0);
        var pending = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<PendingApproval>>(queue.ListAsync()), cancellationToken);
        return TypedResults.Ok(pending
            .OrderBy(p => p.SubmittedAt)
            .Select(p => new PendingApprovalView(p.AppId, p.Version, p.Author, p.Team, p.Audience, p.SubmittedAt, p.Gates.Select(GateView.From).ToArray()))
            .ToArray());
    }

    internal static async Task<IResult> DecideAsync(string appId, string version, bool approve, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var target = await LoadAsync(appId, version, grains, cluster, context.RequestAborted);
        if (target.Error is not null)
        {
            return target.Error;
        }

        var read = await AdminJson.ReadAsync<DecisionBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var comment = read.Value!.Comment?.Trim() ?? "";
        if (comment.Length == 0)
        {
            return AdminJson.Invalid("comment", approve ? "An approval needs a comment." : "A rejection needs a comment saying why.");
        }

        if (comment.Length > MaxCommentLength)
        {
            return AdminJson.Invalid("comment", $"At most {MaxCommentLength} characters (got {comment.Length}).");
        }

        var principal = context.AdminPrincipal();
        if (string.Equals(target.Version!.Author, principal.Name, StringComparison.Ordinal))
        {
            return SelfApproval(principal, appId, target.Number);
        }

        AppVersionInfo decided;
        try
        {
            // Not retried: a decision is a command the approver repeats if the reply was lost (the grain then says it is decided).
            decided = await grains.GetGrain<IMicroAppGrain>(appId).DecideAsync(target.Number, principal.Name, approve, comment);
        }
        catch (KeyNotFoundException ex)
        {
            return NotFound(ex.Message);
        }
        catch (UnauthorizedAccessException)
        {
            return SelfApproval(principal, appId, target.Number);
        }
        catch (InvalidOperationException ex)
        {
            return Refused(ex.Message, target.Version.State);
        }
        catch (ArgumentException ex)
        {
            return AdminJson.Invalid("comment", ex.Message);
        }

        await context.AuditAsync(grains, approve ? "app.version.approved" : "app.version.rejected", $"app:{appId}", Truncate($"v{target.Number}: {comment}"));
        var approval = decided.Approval is { } a ? new ApprovalView(a.Approver, a.Approved, a.Comment, a.At, a.Automatic) : null;
        return TypedResults.Ok(new VersionDecisionView(appId, decided.Version, decided.State, decided.Author, approval, decided.Gates.Select(GateView.From).ToArray()));
    }

    private sealed record Target(AppInfo? App, AppVersionInfo? Version, int Number, IResult? Error);

    private static async Task<Target> LoadAsync(string appId, string version, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!ApiKeys.IsValidAppId(appId))
        {
            return new(null, null, 0, AdminEndpoints.InvalidAppId());
        }

        if (!int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1)
        {
            return new(null, null, 0, AdminJson.Invalid("version", $"Must be a version number (1, 2, …); got '{version}'."));
        }

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var info = await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), cancellationToken);
        if (info is null)
        {
            return new(null, null, number, NotFound($"No app has the id '{appId}'."));
        }

        var found = await cluster.RunAsync(_ => new ValueTask<AppVersionInfo?>(app.GetVersionAsync(number)), cancellationToken);
        return found is null
            ? new(info, null, number, NotFound($"App '{appId}' has no version {number}."))
            : new(info, found, number, null);
    }

    private static IResult NotFound(string detail) =>
        TypedResults.Problem(title: "Not found", detail: detail, statusCode: StatusCodes.Status404NotFound);

    private static IResult Refused(string reason, VersionState state) => TypedResults.Problem(
        title: "Transition refused",
        detail: reason,
        statusCode: StatusCodes.Status409Conflict,
        extensions: new Dictionary<string, object?> { ["state"] = Lower(state) });

    private static IResult SelfApproval(AdminPrincipal principal, string appId, int version) => TypedResults.Problem(
        title: "Forbidden",
        detail: $"'{principal.Name}' wrote version {version} of '{appId}' and may not decide on it; another approver must.",
        statusCode: StatusCodes.Status403Forbidden);

    private static string Describe(SubmissionOutcome outcome) => outcome switch
    {
        SubmissionOutcome.AutoApproved => "approved automatically: every gate passed",
        SubmissionOutcome.AwaitingApproval => "passed every gate and waits for an approver",
        _ => "returned to draft",
    };

    private static string Lower(VersionState state) => state.ToString().ToLowerInvariant();

    // The audit log keeps reasons short; the gates themselves are on the version.
    private static string Truncate(string text) => text.Length <= 2000 ? text : text[..1997] + "...";
}
