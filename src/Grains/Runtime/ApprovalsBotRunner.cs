using System.Globalization;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Runtime;

/// <summary>
/// The approvals-bot template: the model drafts a recommendation on the request (one governed call, step
/// <c>recommend</c>), then a workflow grain waits for a named person to approve or reject it. The run answers at once
/// with the recommendation and the workflow (outcome <see cref="RunOutcome.Pending"/>); the decision, escalation and
/// timeout happen later in <see cref="ApprovalWorkflowGrain"/>.
/// </summary>
public sealed class ApprovalsBotRunner : ITemplateRunner
{
    /// <summary>The field of <see cref="AppRunRequest.Fields"/> naming who asks.</summary>
    public const string RequesterField = "requester";

    /// <summary>Longest recommendation, in tokens.</summary>
    public const int MaxRecommendationTokens = 400;

    /// <summary>The longest requester name.</summary>
    public const int MaxRequesterLength = 200;

    /// <summary>What the model is told besides the app's instructions, so every recommendation reads the same way.</summary>
    public const string AnswerFormat =
        "Draft a recommendation for the person who will decide on the request below. Start with APPROVE or REJECT on the " +
        "first line, then give the reasons in a few short sentences, citing the rules above. A person makes the final decision.";

    public string Template => BuiltIns.ApprovalsBot;

    public async Task<AppRunResult> RunAsync(IRunContext run, AppRunRequest request)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(request);
        var input = request.Input?.Trim() ?? "";
        if (input.Length == 0)
        {
            return run.Fail(RunOutcome.InvalidRequest, "invalid_request", "The request to decide on is empty: put it in `input`.", "input");
        }

        var requester = request.Fields is { } fields && fields.TryGetValue(RequesterField, out var who) ? who?.Trim() ?? "" : "";
        if (requester.Length == 0)
        {
            return run.Fail(RunOutcome.InvalidRequest, "invalid_request",
                "An approvals-bot run needs to know who is asking: `fields.requester` is required (the requester is notified of the decision).", "fields.requester");
        }

        if (requester.Length > MaxRequesterLength)
        {
            return run.Fail(RunOutcome.InvalidRequest, "invalid_request",
                $"`fields.requester` has at most {MaxRequesterLength} characters (got {requester.Length}).", "fields.requester");
        }

        var parameters = run.Parameters;
        var approvers = TemplateParameters.List(parameters, "approvers");
        if (approvers.Count == 0)
        {
            // The manifest's validation requires approvers; a version without them cannot run.
            return run.Fail(RunOutcome.Forbidden, "template_misconfigured",
                $"Version {run.Served.Version} of app '{run.AppId}' names no approvers (parameters.approvers), so nobody could decide.");
        }

        var workflowId = ApprovalWorkflows.IdForRun(run.RunId);
        var workflow = run.Grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(run.AppId, workflowId));

        // A retried run finds the workflow it started: the same answer, and the model is not asked (nor charged) again.
        if (await workflow.GetAsync() is { } existing && existing.RunId == run.RunId)
        {
            return Pending(run, existing);
        }

        var instructions = TemplateParameters.Text(parameters, "instructions");
        var step = await run.CallModelAsync("recommend",
        [
            new ChatTurn("system", instructions.Length == 0 ? AnswerFormat : $"{instructions}\n\n{AnswerFormat}"),
            new ChatTurn("user", $"Request from {requester}:\n{input}"),
        ], MaxRecommendationTokens);
        if (!step.Ok)
        {
            return step.Failure ?? run.Fail(RunOutcome.BackendFailed, "model_failed", "The recommendation could not be drafted.");
        }

        var started = await workflow.StartAsync(new ApprovalWorkflowStart(
            run.AppId,
            run.Served.Version,
            run.RunId,
            requester,
            input,
            step.Content.Trim(),
            approvers.ToArray(),
            TemplateParameters.List(parameters, "escalateTo").ToArray(),
            TemplateParameters.Duration(parameters, "decisionTimeout", TimeSpan.FromDays(2)),
            TemplateParameters.Duration(parameters, "escalationTimeout", TimeSpan.FromDays(1)),
            TemplateParameters.Text(parameters, "notify")));
        return started.Outcome switch
        {
            WorkflowStartOutcome.Started or WorkflowStartOutcome.AlreadyStarted => Pending(run, started.Workflow!),
            WorkflowStartOutcome.Conflict => run.Fail(RunOutcome.Conflict, "workflow_conflict", started.Message ?? "The workflow id is taken by another run."),
            _ => run.Fail(RunOutcome.InvalidRequest, "invalid_request", started.Message ?? "The workflow could not start.", started.Field),
        };
    }

    private static AppRunResult Pending(IRunContext run, ApprovalWorkflowView workflow) =>
        run.Complete(workflow.Recommendation, Details(workflow), RunOutcome.Pending);

    /// <summary>What a run answers about its workflow: <c>workflowId</c>, <c>state</c>, <c>approvers</c> (comma-separated) and <c>deadline</c> (ISO 8601).</summary>
    public static IReadOnlyDictionary<string, string> Details(ApprovalWorkflowView workflow) => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["workflowId"] = workflow.WorkflowId,
        ["state"] = ApprovalWorkflowStates.Name(workflow.State),
        ["approvers"] = string.Join(",", workflow.Approvers),
        ["deadline"] = workflow.Deadline?.ToString("O", CultureInfo.InvariantCulture) ?? "",
    };
}
