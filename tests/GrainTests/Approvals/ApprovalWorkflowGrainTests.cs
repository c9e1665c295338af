using System.Text.Json;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Audit;
using MicroApps.Orleans.Runtime;
using static MicroApps.Orleans.GrainTests.Approvals.ApprovalTestSetup;

namespace MicroApps.Orleans.GrainTests.Approvals;

[Collection(ClusterCollection.Name)]
public sealed class ApprovalWorkflowGrainTests(ClusterFixture fixture)
{
    private sealed record Started(string AppId, string WorkflowId, IApprovalWorkflowGrain Grain, ApprovalWorkflowView View);

    private async Task<Started> StartAsync(AppManifest? manifest = null, FakeWebhook? hook = null)
    {
        var appId = NewAppId();
        manifest ??= Manifest();
        await fixture.Grains.GetGrain<IMicroAppGrain>(appId).CreateAsync(manifest);
        if (hook is not null)
        {
            FakeWebhooks.Set(appId, hook);
        }

        var runId = "run-" + Guid.NewGuid().ToString("N");
        var workflowId = ApprovalWorkflows.IdForRun(runId);
        var grain = fixture.Grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(appId, workflowId));
        var result = await grain.StartAsync(StartFor(appId, manifest, runId));
        Assert.Equal(WorkflowStartOutcome.Started, result.Outcome);
        return new Started(appId, workflowId, grain, result.Workflow!);
    }

    private static async Task<WorkflowNotification> NotificationAsync(IApprovalWorkflowGrain grain, string @event, Func<WorkflowNotification, bool> until)
    {
        WorkflowNotification? found = null;
        await Eventually.TrueAsync(async () =>
            (found = (await grain.GetAsync())!.Notifications.SingleOrDefault(n => n.Event == @event)) is { } n && until(n), $"the {@event} notification");
        return found!;
    }

    private async Task<IReadOnlyList<AuditEntry>> AuditAsync(string appId) =>
        (await AuditLog.Get(fixture.Grains).QueryAsync(new AuditQuery(Target: $"app:{appId}", Action: "workflow."))).Entries;

    [Fact]
    public async Task A_started_workflow_is_pending_with_the_decision_deadline_and_listed_in_the_app_inbox()
    {
        var now = ClusterFixture.Time.GetUtcNow();
        var w = await StartAsync();

        Assert.Equal(ApprovalWorkflowState.Pending, w.View.State);
        Assert.Equal(now + TimeSpan.FromDays(2), w.View.Deadline);
        Assert.Equal([Approver, OtherApprover], w.View.Approvers);
        Assert.Equal("requester-rita", w.View.Requester);
        Assert.Equal("started", Assert.Single(w.View.History).Event);
        Assert.Empty(w.View.Notifications);

        var listed = Assert.Single(await fixture.Grains.GetGrain<IApprovalInboxGrain>(w.AppId).ListAsync(null));
        Assert.Equal(w.WorkflowId, listed.WorkflowId);
        Assert.Equal(ApprovalWorkflowState.Pending, listed.State);
        Assert.Empty(await fixture.Grains.GetGrain<IApprovalInboxGrain>(w.AppId).ListAsync(ApprovalWorkflowState.Approved));
    }

    [Fact]
    public async Task Start_is_idempotent_by_run_id_and_refuses_another_run_on_the_same_workflow()
    {
        var w = await StartAsync();
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(1));

        var again = await w.Grain.StartAsync(StartFor(w.AppId, Manifest(), w.View.RunId) with { RequestText = "something else" });
        Assert.Equal(WorkflowStartOutcome.AlreadyStarted, again.Outcome);
        Assert.Equal(w.View.CreatedAt, again.Workflow!.CreatedAt);
        Assert.Equal(w.View.RequestText, again.Workflow.RequestText);
        Assert.Single(again.Workflow.History);

        var other = await w.Grain.StartAsync(StartFor(w.AppId, Manifest(), "another-run"));
        Assert.Equal(WorkflowStartOutcome.Conflict, other.Outcome);
        Assert.Contains(w.View.RunId, other.Message);
    }

    [Fact]
    public async Task A_start_without_requester_or_approvers_is_refused_naming_the_field()
    {
        var appId = NewAppId();
        var grain = fixture.Grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(appId, "wf-x"));

        var noRequester = await grain.StartAsync(StartFor(appId, Manifest(), "r1", requester: "  "));
        Assert.Equal(WorkflowStartOutcome.Invalid, noRequester.Outcome);
        Assert.Equal("fields.requester", noRequester.Field);

        var noApprovers = await grain.StartAsync(StartFor(appId, Manifest(), "r1") with { Approvers = [] });
        Assert.Equal(WorkflowStartOutcome.Invalid, noApprovers.Outcome);
        Assert.Equal("parameters.approvers", noApprovers.Field);
        Assert.Null(await grain.GetAsync());
    }

    [Fact]
    public async Task A_named_approver_approves_and_the_requester_is_notified_through_the_webhook()
    {
        var w = await StartAsync();

        var decided = await w.Grain.DecideAsync(Approver, approve: true, "Fine, within the limit.");

        Assert.Equal(WorkflowDecisionOutcome.Decided, decided.Outcome);
        var view = decided.Workflow!;
        Assert.Equal(ApprovalWorkflowState.Approved, view.State);
        Assert.Null(view.Deadline);
        Assert.Equal(Approver, view.Decision!.By);
        Assert.True(view.Decision.Approve);
        Assert.Equal("Fine, within the limit.", view.Decision.Comment);
        Assert.Equal(["started", "approved"], view.History.Select(h => h.Event).ToArray());

        var note = await NotificationAsync(w.Grain, "approved", n => n.State == NotificationState.Delivered);
        Assert.Equal(1, note.Attempts);
        Assert.Null(note.LastError);
        var (call, body) = Assert.Single(FakeWebhooks.For(w.AppId).Received);
        Assert.Equal(NotifyConnector, call.Connector);
        Assert.Equal($"{w.WorkflowId}/approved", call.IdempotencyKey);
        Assert.Equal("127.0.0.1", BuiltInsWebhookHost(call));
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal("approved", root.GetProperty("event").GetString());
        Assert.Equal(w.WorkflowId, root.GetProperty("workflowId").GetString());
        Assert.Equal(w.AppId, root.GetProperty("appId").GetString());
        Assert.Equal("requester-rita", root.GetProperty("requester").GetString());
        Assert.Equal("approved", root.GetProperty("state").GetString());
        Assert.Equal(Approver, root.GetProperty("decision").GetProperty("by").GetString());
        Assert.True(root.GetProperty("decision").GetProperty("approve").GetBoolean());
        Assert.Equal("APPROVE\nUnder the 500 EUR limit.", root.GetProperty("recommendation").GetString());

        var listed = Assert.Single(await fixture.Grains.GetGrain<IApprovalInboxGrain>(w.AppId).ListAsync(ApprovalWorkflowState.Approved));
        Assert.Equal(Approver, listed.DecidedBy);
        var audit = Assert.Single(await AuditAsync(w.AppId));
        Assert.Equal("workflow.approved", audit.Record.Action);
        Assert.Equal(Approver, audit.Record.Actor);
        Assert.Equal("workflow approver", audit.Record.Role);
        Assert.Equal($"workflow {w.WorkflowId}: Fine, within the limit.", audit.Record.Reason);
    }

    private static string BuiltInsWebhookHost(Connectors.ConnectorCall call) => call.Manifest.Connectors!.Single(c => c.Name == call.Connector).Host;

    [Fact]
    public async Task A_rejection_is_final_a_repeat_is_a_no_op_and_a_different_decision_is_a_conflict()
    {
        var w = await StartAsync();

        var rejected = await w.Grain.DecideAsync(OtherApprover, approve: false, "Not a customer trip.");
        Assert.Equal(WorkflowDecisionOutcome.Decided, rejected.Outcome);
        Assert.Equal(ApprovalWorkflowState.Rejected, rejected.Workflow!.State);

        var repeated = await w.Grain.DecideAsync(OtherApprover, approve: false, "Not a customer trip (again).");
        Assert.Equal(WorkflowDecisionOutcome.Repeated, repeated.Outcome);
        Assert.Equal("Not a customer trip.", repeated.Workflow!.Decision!.Comment);

        var overturn = await w.Grain.DecideAsync(Approver, approve: true, "I disagree.");
        Assert.Equal(WorkflowDecisionOutcome.Conflict, overturn.Outcome);
        Assert.Contains($"rejected by '{OtherApprover}'", overturn.Message);
        Assert.Equal(ApprovalWorkflowState.Rejected, overturn.Workflow!.State);

        await NotificationAsync(w.Grain, "rejected", n => n.State == NotificationState.Delivered);
        Assert.Single((await w.Grain.GetAsync())!.Notifications);
        Assert.Equal("workflow.rejected", Assert.Single(await AuditAsync(w.AppId)).Record.Action);
        Assert.Single(FakeWebhooks.For(w.AppId).Received);
    }

    [Fact]
    public async Task Only_a_named_approver_may_decide_and_only_with_a_comment()
    {
        var w = await StartAsync(Manifest(escalateTo: [EscalationApprover]));

        var stranger = await w.Grain.DecideAsync("mallory", approve: true, "looks fine");
        Assert.Equal(WorkflowDecisionOutcome.NotAnApprover, stranger.Outcome);
        Assert.Contains(Approver, stranger.Message);
        Assert.Contains(OtherApprover, stranger.Message);

        // The escalation approver decides only once the workflow has escalated.
        var early = await w.Grain.DecideAsync(EscalationApprover, approve: true, "looks fine");
        Assert.Equal(WorkflowDecisionOutcome.NotAnApprover, early.Outcome);

        var silent = await w.Grain.DecideAsync(Approver, approve: false, "   ");
        Assert.Equal(WorkflowDecisionOutcome.Invalid, silent.Outcome);
        Assert.Contains("comment", silent.Message);

        var tooLong = await w.Grain.DecideAsync(Approver, approve: false, new string('x', ApprovalWorkflows.MaxCommentLength + 1));
        Assert.Equal(WorkflowDecisionOutcome.Invalid, tooLong.Outcome);

        Assert.Equal(ApprovalWorkflowState.Pending, (await w.Grain.GetAsync())!.State);
    }

    [Fact]
    public async Task Unanswered_workflows_escalate_then_time_out_on_the_platform_clock()
    {
        var w = await StartAsync(Manifest(escalateTo: [EscalationApprover], decisionTimeout: "2h", escalationTimeout: "1h"));
        var started = w.View.CreatedAt;

        ClusterFixture.Time.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        Assert.Equal(ApprovalWorkflowState.Pending, (await w.Grain.GetAsync())!.State);

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(2));
        var escalated = (await w.Grain.GetAsync())!;
        Assert.Equal(ApprovalWorkflowState.Escalated, escalated.State);
        Assert.Equal(started + TimeSpan.FromHours(3), escalated.Deadline);
        Assert.Equal([Approver, OtherApprover, EscalationApprover], escalated.DecidersNow);
        var escalation = escalated.History.Single(h => h.Event == "escalated");
        Assert.Equal(started + TimeSpan.FromHours(2), escalation.At);
        Assert.Equal(ApprovalWorkflowGrain.SystemActor, escalation.Actor);
        await NotificationAsync(w.Grain, "escalated", n => n.State == NotificationState.Delivered);

        ClusterFixture.Time.Advance(TimeSpan.FromHours(1));
        var timedOut = (await w.Grain.GetAsync())!;
        Assert.Equal(ApprovalWorkflowState.TimedOut, timedOut.State);
        Assert.Null(timedOut.Deadline);
        Assert.Null(timedOut.Decision);
        Assert.Equal(["started", "escalated", "timed_out"], timedOut.History.Select(h => h.Event).ToArray());
        var note = await NotificationAsync(w.Grain, "timed_out", n => n.State == NotificationState.Delivered);
        using (var body = JsonDocument.Parse(FakeWebhooks.For(w.AppId).Received.Last().Body))
        {
            Assert.Equal("timed_out", body.RootElement.GetProperty("state").GetString());
            Assert.False(body.RootElement.TryGetProperty("decision", out _));
        }

        Assert.Equal($"{w.WorkflowId}/timed_out", note.IdempotencyKey);
        var late = await w.Grain.DecideAsync(EscalationApprover, approve: true, "sorry, late");
        Assert.Equal(WorkflowDecisionOutcome.Conflict, late.Outcome);
        Assert.Contains("timed out", late.Message);

        var audit = await AuditAsync(w.AppId);
        Assert.Equal(["workflow.timed_out", "workflow.escalated"], audit.Select(e => e.Record.Action).ToArray());
        Assert.All(audit, e => Assert.Contains(w.WorkflowId, e.Record.Reason));
        Assert.All(audit, e => Assert.Equal("system", e.Record.Actor));
        Assert.Equal(ApprovalWorkflowState.TimedOut, Assert.Single(await fixture.Grains.GetGrain<IApprovalInboxGrain>(w.AppId).ListAsync(ApprovalWorkflowState.TimedOut)).State);
    }

    [Fact]
    public async Task An_escalation_approver_may_decide_once_escalated()
    {
        var w = await StartAsync(Manifest(escalateTo: [EscalationApprover], decisionTimeout: "1h"));
        ClusterFixture.Time.Advance(TimeSpan.FromHours(1));

        var decided = await w.Grain.DecideAsync(EscalationApprover, approve: true, "Approved on escalation.");

        Assert.Equal(WorkflowDecisionOutcome.Decided, decided.Outcome);
        Assert.Equal(ApprovalWorkflowState.Approved, decided.Workflow!.State);
        Assert.Equal(["started", "escalated", "approved"], decided.Workflow.History.Select(h => h.Event).ToArray());
        var audit = await AuditAsync(w.AppId);
        Assert.Equal(["workflow.approved", "workflow.escalated"], audit.Select(e => e.Record.Action).ToArray());
        Assert.Equal("escalation approver", audit[0].Record.Role);
    }

    [Fact]
    public async Task Without_escalation_approvers_the_first_timeout_ends_the_workflow()
    {
        var w = await StartAsync(Manifest(decisionTimeout: "30m"));

        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(30));
        var view = (await w.Grain.GetAsync())!;

        Assert.Equal(ApprovalWorkflowState.TimedOut, view.State);
        Assert.Equal(["started", "timed_out"], view.History.Select(h => h.Event).ToArray());
        Assert.Equal(["workflow.timed_out"], (await AuditAsync(w.AppId)).Select(e => e.Record.Action).ToArray());
    }

    [Fact]
    public async Task The_deadline_fires_from_the_grain_timer_without_anyone_reading_the_workflow()
    {
        var w = await StartAsync(Manifest(decisionTimeout: "2s"));
        var inbox = fixture.Grains.GetGrain<IApprovalInboxGrain>(w.AppId);

        // Only the inbox is read here: reading the workflow would apply the deadline itself.
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(3));
        await Eventually.TrueAsync(async () => (await inbox.ListAsync(null)).Single().State == ApprovalWorkflowState.TimedOut, "the timer to time the workflow out");

        // The notification is sent after the inbox is updated, so it may still be on its way.
        await Eventually.TrueAsync(() => Task.FromResult(!FakeWebhooks.For(w.AppId).Received.IsEmpty), "the timed_out notification");
        Assert.Single(FakeWebhooks.For(w.AppId).Received, r => r.Call.IdempotencyKey == $"{w.WorkflowId}/timed_out");
    }

    [Fact]
    public async Task A_notification_is_retried_with_backoff_until_the_webhook_answers()
    {
        var w = await StartAsync(hook: new FakeWebhook { FailFirst = 2 });

        await w.Grain.DecideAsync(Approver, approve: true, "ok");
        var first = await NotificationAsync(w.Grain, "approved", n => n.Attempts == 1);
        Assert.Equal(NotificationState.Pending, first.State);
        Assert.Contains("503", first.LastError);
        Assert.Equal(first.LastAttemptAt + TimeSpan.FromSeconds(5), first.NextAttemptAt);

        // Not retried before its backoff has passed on the platform clock.
        Assert.Equal(1, (await w.Grain.GetAsync())!.Notifications.Single().Attempts);

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(5));
        var second = await NotificationAsync(w.Grain, "approved", n => n.Attempts == 2);
        Assert.Equal(second.LastAttemptAt + TimeSpan.FromSeconds(10), second.NextAttemptAt);

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(10));
        var delivered = await NotificationAsync(w.Grain, "approved", n => n.State == NotificationState.Delivered);
        Assert.Equal(3, delivered.Attempts);
        Assert.Null(delivered.LastError);
        Assert.NotNull(delivered.DeliveredAt);

        var received = FakeWebhooks.For(w.AppId).Received.ToArray();
        Assert.Equal(3, received.Length);
        Assert.All(received, r => Assert.Equal($"{w.WorkflowId}/approved", r.Call.IdempotencyKey));
        Assert.Single(received.Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task A_notification_refused_before_leaving_the_platform_is_not_retried()
    {
        var w = await StartAsync(hook: new FakeWebhook { RefuseWith = "egress_refused" });

        await w.Grain.DecideAsync(Approver, approve: false, "no");
        var failed = await NotificationAsync(w.Grain, "rejected", n => n.State == NotificationState.Failed);
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(5));
        await w.Grain.GetAsync();

        Assert.Equal(1, failed.Attempts);
        Assert.StartsWith("egress_refused", failed.LastError);
        Assert.Single(FakeWebhooks.For(w.AppId).Received);
        Assert.Equal(1, (await w.Grain.GetAsync())!.Notifications.Single().Attempts);
    }

    [Fact]
    public async Task Without_a_notify_connector_nothing_is_sent()
    {
        var w = await StartAsync(Manifest(notify: false));

        var decided = await w.Grain.DecideAsync(Approver, approve: true, "ok");

        Assert.Equal(ApprovalWorkflowState.Approved, decided.Workflow!.State);
        Assert.Empty(decided.Workflow.Notifications);
        Assert.Empty(FakeWebhooks.For(w.AppId).Received);
    }
}
