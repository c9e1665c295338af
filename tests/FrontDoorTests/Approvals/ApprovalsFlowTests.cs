using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests.Approvals;

/// <summary>
/// Approval flows end to end through the front door: the run drafts the recommendation and starts the workflow, a
/// named approver decides through the admin API, the requester's real webhook (loopback) is notified, and the app's
/// callers follow the workflow with the app key. The front door runs on the real clock, so the timeout flow uses
/// two-second timeouts and waits on the webhook, with a deadline. Apps come from the admin API's manifest document.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class ApprovalsFlowTests(FrontDoorFixture fixture)
{
    private const string Notify = "requester-hook";
    private const string EscalationApprover = "admin";
    private static readonly TimeSpan WebhookWait = TimeSpan.FromSeconds(30);

    private sealed record App(string AppId, string ApiKey);

    private sealed record Run(string WorkflowId, JsonElement Body);

    private IGrainFactory Grains => fixture.FrontDoor.Services.GetRequiredService<IGrainFactory>();

    /// <summary>
    /// An approvals-bot app (version 1 published, with a budget and a key) whose approver is approver-carol, notifying
    /// <paramref name="hook"/> through its webhook connector; created through the admin API's manifest document.
    /// </summary>
    private async Task<App> AppAsync(ApprovalsWebhookReceiver hook, string decisionTimeout = "1d", string? escalateTo = null, string escalationTimeout = "1d")
    {
        var appId = FrontDoorFixture.NewAppId("apv");
        var parameters = new Dictionary<string, object>
        {
            ["instructions"] = "Approve travel under 500 EUR with a customer reason; reject anything else.",
            ["approvers"] = new[] { FrontDoorFixture.ApproverName },
            ["decisionTimeout"] = decisionTimeout,
            ["escalationTimeout"] = escalationTimeout,
            ["notify"] = Notify,
        };
        if (escalateTo is not null)
        {
            parameters["escalateTo"] = new[] { escalateTo };
        }

        var (status, created) = await AdminAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Travel approvals",
            owner = FrontDoorFixture.AuthorName,
            team = "approvals-tests",
            audience = "internal",
            dataClasses = Array.Empty<string>(),
            allowedTiers = new[] { "standard" },
            defaultTier = "standard",
            quotas = new { requestsPerMinute = 1000, tokensPerDay = 10_000_000 },
            budget = new { limitUsd = 10m, period = "day" },
            initialState = "published",
            template = "approvals-bot@1.0.0",
            parameters,
            connectors = new[]
            {
                new { name = Notify, host = "127.0.0.1", dataClasses = Array.Empty<string>(), use = "webhook@1.0.0", settings = new Dictionary<string, string> { ["url"] = hook.Url } },
            },
            egressAllowlist = new[] { "127.0.0.1" },
        });
        Assert.True(status == HttpStatusCode.Created, $"create app: {(int)status} {created}");
        return new App(appId, await fixture.IssueKeyAsync(appId));
    }

    /// <summary>Starts a workflow the way an approvals-bot run does (the run endpoint comes with the runtime work).</summary>
    private async Task<Run> RunAsync(App app, string request, string requester = "requester-rita")
    {
        var runId = "run-" + Guid.NewGuid().ToString("N");
        var info = await Grains.GetGrain<IMicroAppGrain>(app.AppId).GetAsync();
        var p = TemplateParameters.WithDefaults(BuiltInCatalog.ApprovalsBot.Parameters, info!.Manifest.Parameters);
        var workflowId = ApprovalWorkflows.IdForRun(runId);
        var started = await Grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(app.AppId, workflowId)).StartAsync(new ApprovalWorkflowStart(
            app.AppId, 1, runId, requester, request, "APPROVE\nA customer workshop under the limit.",
            TemplateParameters.List(p, "approvers").ToArray(), TemplateParameters.List(p, "escalateTo").ToArray(),
            TemplateParameters.Duration(p, "decisionTimeout", TimeSpan.Zero), TemplateParameters.Duration(p, "escalationTimeout", TimeSpan.Zero),
            TemplateParameters.Text(p, "notify")));
        Assert.Equal(WorkflowStartOutcome.Started, started.Outcome);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(ApprovalsBotRunner.Details(started.Workflow!)));
        return new Run(workflowId, json.RootElement.Clone());
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> AppGetAsync(App app, string path, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey ?? app.ApiKey);
        using var response = await fixture.Http.SendAsync(request);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> AdminAsync(HttpMethod method, string path, object? body = null, string token = FrontDoorFixture.AdminToken)
    {
        using var response = await fixture.AdminAsync(method, path, body, token);
        var text = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return (response.StatusCode, json.RootElement.Clone());
    }

    [Fact]
    public async Task An_approval_flow_approved_by_the_named_approver_notifies_the_requester()
    {
        await using var hook = await ApprovalsWebhookReceiver.StartAsync();
        var app = await AppAsync(hook);
        var run = await RunAsync(app, "Train to Lyon for the customer workshop, 320 EUR.");
        Assert.Equal("pending", run.Body.GetProperty("state").GetString());
        Assert.Equal(FrontDoorFixture.ApproverName, run.Body.GetProperty("approvers").GetString());

        var (status, pending) = await AppGetAsync(app, $"apps/{app.AppId}/workflows/{run.WorkflowId}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("pending", pending.GetProperty("state").GetString());
        Assert.Equal("requester-rita", pending.GetProperty("requester").GetString());

        // Anyone else is refused, naming who may decide; the approver must say why.
        var path = $"admin/apps/{app.AppId}/workflows/{run.WorkflowId}";
        var (refusedStatus, refused) = await AdminAsync(HttpMethod.Post, path + "/approve", new { comment = "ok" }, FrontDoorFixture.AdminToken);
        Assert.Equal(HttpStatusCode.Forbidden, refusedStatus);
        Assert.Contains(FrontDoorFixture.ApproverName, refused.GetProperty("detail").GetString());
        Assert.Equal(FrontDoorFixture.ApproverName, refused.GetProperty("mayDecide")[0].GetString());
        var (silentStatus, silent) = await AdminAsync(HttpMethod.Post, path + "/approve", new { comment = " " }, FrontDoorFixture.ApproverToken);
        Assert.Equal(HttpStatusCode.BadRequest, silentStatus);
        Assert.True(silent.GetProperty("errors").TryGetProperty("comment", out _));

        var (approvedStatus, approved) = await AdminAsync(HttpMethod.Post, path + "/approve", new { comment = "Customer workshop, fine." }, FrontDoorFixture.ApproverToken);
        Assert.Equal(HttpStatusCode.OK, approvedStatus);
        Assert.Equal("approved", approved.GetProperty("state").GetString());
        Assert.Equal(FrontDoorFixture.ApproverName, approved.GetProperty("decision").GetProperty("by").GetString());
        Assert.Equal(0, approved.GetProperty("mayDecide").GetArrayLength());

        var note = await hook.WaitForAsync("approved", WebhookWait);
        Assert.Equal($"{run.WorkflowId}/approved", note.DeliveryId);
        Assert.Equal(run.WorkflowId, note.Body.GetProperty("workflowId").GetString());
        Assert.Equal(app.AppId, note.Body.GetProperty("appId").GetString());
        Assert.Equal("requester-rita", note.Body.GetProperty("requester").GetString());
        Assert.Equal("approved", note.Body.GetProperty("state").GetString());
        Assert.Equal("Customer workshop, fine.", note.Body.GetProperty("decision").GetProperty("comment").GetString());
        Assert.StartsWith("APPROVE", note.Body.GetProperty("recommendation").GetString());

        // Repeating the decision changes nothing; the opposite one is a conflict.
        var (againStatus, _) = await AdminAsync(HttpMethod.Post, path + "/approve", new { comment = "Customer workshop, fine." }, FrontDoorFixture.ApproverToken);
        Assert.Equal(HttpStatusCode.OK, againStatus);
        var (conflictStatus, conflict) = await AdminAsync(HttpMethod.Post, path + "/reject", new { comment = "changed my mind" }, FrontDoorFixture.ApproverToken);
        Assert.Equal(HttpStatusCode.Conflict, conflictStatus);
        Assert.Equal("approved", conflict.GetProperty("state").GetString());

        var (_, followed) = await AppGetAsync(app, $"apps/{app.AppId}/workflows/{run.WorkflowId}");
        Assert.Equal("approved", followed.GetProperty("state").GetString());
        var delivered = followed.GetProperty("notifications").EnumerateArray().Single();
        Assert.Equal("approved", delivered.GetProperty("event").GetString());
        Assert.Equal("delivered", delivered.GetProperty("state").GetString());

        var (_, listed) = await AdminAsync(HttpMethod.Get, $"admin/apps/{app.AppId}/workflows?state=approved", token: FrontDoorFixture.ViewerToken);
        Assert.Equal(run.WorkflowId, listed.EnumerateArray().Single().GetProperty("workflowId").GetString());
        var (_, none) = await AdminAsync(HttpMethod.Get, $"admin/apps/{app.AppId}/workflows?state=pending", token: FrontDoorFixture.ViewerToken);
        Assert.Equal(0, none.GetArrayLength());

        var (_, audit) = await AdminAsync(HttpMethod.Get, $"admin/audit?target=app:{app.AppId}&action=workflow.");
        var entry = audit.GetProperty("entries").EnumerateArray().Single();
        Assert.Equal("workflow.approved", entry.GetProperty("action").GetString());
        Assert.Equal(FrontDoorFixture.ApproverName, entry.GetProperty("actor").GetString());
        Assert.Single(hook.Seen);
    }

    [Fact]
    public async Task An_approval_flow_rejected_by_the_named_approver_notifies_the_requester()
    {
        await using var hook = await ApprovalsWebhookReceiver.StartAsync();
        var app = await AppAsync(hook);
        var run = await RunAsync(app, "Business class to Tokyo, 4200 EUR, no customer.");

        var (status, rejected) = await AdminAsync(HttpMethod.Post, $"admin/apps/{app.AppId}/workflows/{run.WorkflowId}/reject",
            new { comment = "Over the limit and no customer reason." }, FrontDoorFixture.ApproverToken);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("rejected", rejected.GetProperty("state").GetString());
        Assert.False(rejected.GetProperty("decision").GetProperty("approve").GetBoolean());
        var note = await hook.WaitForAsync("rejected", WebhookWait);
        Assert.Equal("rejected", note.Body.GetProperty("state").GetString());
        Assert.False(note.Body.GetProperty("decision").GetProperty("approve").GetBoolean());
        var (_, listed) = await AdminAsync(HttpMethod.Get, $"admin/apps/{app.AppId}/workflows?state=rejected");
        Assert.Equal(FrontDoorFixture.ApproverName, listed.EnumerateArray().Single().GetProperty("decidedBy").GetString());
    }

    [Fact]
    public async Task An_approval_flow_nobody_decides_escalates_then_times_out_and_notifies_the_requester_each_time()
    {
        await using var hook = await ApprovalsWebhookReceiver.StartAsync();
        var app = await AppAsync(hook, decisionTimeout: "2s", escalateTo: EscalationApprover, escalationTimeout: "2s");
        var run = await RunAsync(app, "Conference ticket, 450 EUR.");

        // Nobody reads the workflow: the grain's timer applies each deadline on the real clock.
        var escalated = await hook.WaitForAsync("escalated", WebhookWait);
        Assert.Equal("escalated", escalated.Body.GetProperty("state").GetString());
        var timedOut = await hook.WaitForAsync("timed_out", WebhookWait);
        Assert.Equal("timed_out", timedOut.Body.GetProperty("state").GetString());
        Assert.False(timedOut.Body.TryGetProperty("decision", out _));
        Assert.Equal($"{run.WorkflowId}/timed_out", timedOut.DeliveryId);

        var (_, workflow) = await AppGetAsync(app, $"apps/{app.AppId}/workflows/{run.WorkflowId}");
        Assert.Equal("timed_out", workflow.GetProperty("state").GetString());
        Assert.Equal(["started", "escalated", "timed_out"], workflow.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("event").GetString()!).ToArray());

        // Too late, even for the escalation approver.
        var (status, late) = await AdminAsync(HttpMethod.Post, $"admin/apps/{app.AppId}/workflows/{run.WorkflowId}/approve", new { comment = "late" });
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("timed_out", late.GetProperty("state").GetString());

        var (_, audit) = await AdminAsync(HttpMethod.Get, $"admin/audit?target=app:{app.AppId}&action=workflow.");
        Assert.Equal(["workflow.timed_out", "workflow.escalated"], audit.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("action").GetString()!).ToArray());
    }

    [Fact]
    public async Task Another_apps_key_cannot_read_a_workflow_and_unknown_states_are_refused()
    {
        await using var hook = await ApprovalsWebhookReceiver.StartAsync();
        var app = await AppAsync(hook);
        var other = await AppAsync(hook);
        var run = await RunAsync(app, "Taxi, 40 EUR.");

        var (status, error) = await AppGetAsync(app, $"apps/{app.AppId}/workflows/{run.WorkflowId}", other.ApiKey);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("workflow_not_found", error.GetProperty("error").GetProperty("code").GetString());

        var (missingStatus, _) = await AppGetAsync(app, $"apps/{app.AppId}/workflows/wf-does-not-exist");
        Assert.Equal(HttpStatusCode.NotFound, missingStatus);

        using var anonymous = await fixture.Http.GetAsync($"apps/{app.AppId}/workflows/{run.WorkflowId}");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        var (badState, problem) = await AdminAsync(HttpMethod.Get, $"admin/apps/{app.AppId}/workflows?state=done");
        Assert.Equal(HttpStatusCode.BadRequest, badState);
        Assert.Contains("timed_out", problem.GetProperty("errors").GetProperty("state")[0].GetString());
    }

    [Fact]
    public async Task An_author_not_named_on_the_workflow_may_not_decide_on_another_authors_app()
    {
        await using var hook = await ApprovalsWebhookReceiver.StartAsync();
        var app = await AppAsync(hook);
        var run = await RunAsync(app, "Hotel, 120 EUR.");

        var (status, problem) = await AdminAsync(HttpMethod.Post, $"admin/apps/{app.AppId}/workflows/{run.WorkflowId}/approve",
            new { comment = "looks fine" }, FrontDoorFixture.OtherAuthorToken);

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains(FrontDoorFixture.AuthorName, problem.GetProperty("detail").GetString());
        var (_, workflow) = await AdminAsync(HttpMethod.Get, $"admin/apps/{app.AppId}/workflows/{run.WorkflowId}");
        Assert.Equal("pending", workflow.GetProperty("state").GetString());
    }
}
