using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Runtime;
using static MicroApps.Orleans.GrainTests.Approvals.ApprovalTestSetup;

namespace MicroApps.Orleans.GrainTests.Approvals;

[Collection(ClusterCollection.Name)]
public sealed class ApprovalsBotRunnerTests(ClusterFixture fixture)
{
    private static readonly Dictionary<string, string> Rita = new() { ["requester"] = "requester-rita" };

    private async Task<(string AppId, AppManifest Manifest)> AppAsync()
    {
        var appId = NewAppId();
        var manifest = Manifest(escalateTo: [EscalationApprover]);
        await fixture.Grains.GetGrain<IMicroAppGrain>(appId).CreateAsync(manifest);
        return (appId, manifest);
    }

    private TestRunContext Context(string appId, AppManifest manifest, string runId) =>
        new(fixture.Grains, ClusterFixture.Time, appId, runId, manifest) { ModelAnswer = "REJECT\nOver the travel limit." };

    private static AppRunRequest Request(string runId, IReadOnlyDictionary<string, string>? fields) =>
        new("mak.unused", runId, "Flight to Tokyo, 1900 EUR.", Fields: fields);

    [Fact]
    public async Task A_run_drafts_the_recommendation_and_starts_a_pending_workflow()
    {
        var (appId, manifest) = await AppAsync();
        var runId = "run-" + Guid.NewGuid().ToString("N");
        var context = Context(appId, manifest, runId);

        var result = await new ApprovalsBotRunner().RunAsync(context, Request(runId, Rita));

        Assert.Equal(RunOutcome.Pending, result.Outcome);
        Assert.Equal("REJECT\nOver the travel limit.", result.Output);
        var call = Assert.Single(context.ModelCalls);
        Assert.Equal("recommend", call.Step);
        Assert.StartsWith("Approve travel under 500 EUR", call.Messages[0].Content);
        Assert.Contains("APPROVE or REJECT", call.Messages[0].Content);
        Assert.Equal("user", call.Messages[1].Role);
        Assert.Contains("requester-rita", call.Messages[1].Content);
        Assert.Contains("Flight to Tokyo", call.Messages[1].Content);

        var details = result.Details!;
        Assert.Equal(ApprovalWorkflows.IdForRun(runId), details["workflowId"]);
        Assert.Equal("pending", details["state"]);
        Assert.Equal($"{Approver},{OtherApprover}", details["approvers"]);
        Assert.Equal(ClusterFixture.Time.GetUtcNow() + TimeSpan.FromDays(2), DateTimeOffset.Parse(details["deadline"], System.Globalization.CultureInfo.InvariantCulture));

        var workflow = await fixture.Grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(appId, details["workflowId"])).GetAsync();
        Assert.Equal("requester-rita", workflow!.Requester);
        Assert.Equal("Flight to Tokyo, 1900 EUR.", workflow.RequestText);
        Assert.Equal(result.Output, workflow.Recommendation);
        Assert.Equal([EscalationApprover], workflow.EscalateTo);
        Assert.Equal(runId, workflow.RunId);
    }

    [Fact]
    public async Task A_retried_run_returns_its_workflow_without_asking_the_model_again()
    {
        var (appId, manifest) = await AppAsync();
        var runId = "run-" + Guid.NewGuid().ToString("N");
        var first = await new ApprovalsBotRunner().RunAsync(Context(appId, manifest, runId), Request(runId, Rita));

        var retryContext = Context(appId, manifest, runId);
        var retry = await new ApprovalsBotRunner().RunAsync(retryContext, Request(runId, Rita));

        Assert.Empty(retryContext.ModelCalls);
        Assert.Equal(RunOutcome.Pending, retry.Outcome);
        Assert.Equal(first.Details!["workflowId"], retry.Details!["workflowId"]);
        Assert.Equal(first.Output, retry.Output);
        Assert.Single(await fixture.Grains.GetGrain<IApprovalInboxGrain>(appId).ListAsync(null));
    }

    [Fact]
    public async Task A_run_without_a_requester_is_refused_naming_fields_requester_before_any_model_call()
    {
        var (appId, manifest) = await AppAsync();
        foreach (var fields in new IReadOnlyDictionary<string, string>?[] { null, new Dictionary<string, string> { ["requester"] = " " } })
        {
            var context = Context(appId, manifest, "run-" + Guid.NewGuid().ToString("N"));
            var result = await new ApprovalsBotRunner().RunAsync(context, Request(context.RunId, fields));

            Assert.Equal(RunOutcome.InvalidRequest, result.Outcome);
            Assert.Equal("fields.requester", result.ErrorParam);
            Assert.Empty(context.ModelCalls);
        }

        Assert.Empty(await fixture.Grains.GetGrain<IApprovalInboxGrain>(appId).ListAsync(null));
    }

    [Fact]
    public async Task A_failed_model_step_fails_the_run_and_starts_no_workflow()
    {
        var (appId, manifest) = await AppAsync();
        var runId = "run-" + Guid.NewGuid().ToString("N");
        var refusal = AppRunResult.Failure(RunOutcome.BudgetExceeded, runId, "budget_exceeded", "no budget left");
        var context = new TestRunContext(fixture.Grains, ClusterFixture.Time, appId, runId, manifest) { ModelFailure = refusal };

        var result = await new ApprovalsBotRunner().RunAsync(context, Request(runId, Rita));

        Assert.Same(refusal, result);
        Assert.Null(await fixture.Grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(appId, ApprovalWorkflows.IdForRun(runId))).GetAsync());
    }
}
