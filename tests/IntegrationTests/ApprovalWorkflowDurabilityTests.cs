using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Audit;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using MicroApps.Orleans.Runtime;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>
/// An approvals-bot workflow on Azurite: started on one silo, which is then killed before the decision deadline; a new
/// cluster of the same service applies the deadline from the workflow's reminder, without anyone calling the workflow.
/// </summary>
public sealed class ApprovalWorkflowDurabilityTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_workflow_times_out_from_its_reminder_after_the_silo_that_started_it_was_killed()
    {
        var serviceId = TestEnvironment.NewId("svc");
        var clusterId = TestEnvironment.NewId("cluster");
        var appId = TestEnvironment.NewId("apv");
        var runId = "run-" + Guid.NewGuid().ToString("N");
        var workflowId = ApprovalWorkflows.IdForRun(runId);
        ApprovalWorkflowView started;
        var silo = await SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId);
        try
        {
            await using var client = await ClusterClient.ConnectThroughAsync(silo, clusterId, serviceId);
            await client.Grains.GetGrain<IMicroAppGrain>(appId).CreateAsync(new AppManifest(
                "Durable approvals", "tests@example.com", "approvals-tests", Audience.Internal, [], ["standard"], "standard",
                AppQuotas.Default, "", "v1",
                Template: new CatalogRef(BuiltIns.ApprovalsBot, "1.0.0"),
                Parameters: new Dictionary<string, string> { ["instructions"] = "Judge travel requests.", ["approvers"] = "approver-carol" }));
            var result = await client.Grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(appId, workflowId)).StartAsync(new ApprovalWorkflowStart(
                appId, 1, runId, "requester-rita", "Train to Lyon, 320 EUR.", "APPROVE\nUnder the limit.",
                ["approver-carol"], [], DecisionTimeout, TimeSpan.FromDays(1), ""));
            Assert.Equal(WorkflowStartOutcome.Started, result.Outcome);
            started = result.Workflow!;
            Assert.Equal(ApprovalWorkflowState.Pending, (await client.Grains.GetGrain<IApprovalInboxGrain>(appId).ListAsync(null)).Single().State);
            silo.Kill();
        }
        finally
        {
            await silo.DisposeAsync();
        }

        Assert.True(DateTimeOffset.UtcNow < started.Deadline, "the silo was killed only after the deadline; the test proves nothing then");

        // A new cluster of the same service (the killed silo's membership row would delay a rejoin). Only the inbox is
        // read: reading the workflow would apply the deadline itself.
        var afterCrash = TestEnvironment.NewId("cluster");
        await using var restarted = await SiloProcess.StartAsync(storage.ConnectionString, afterCrash, serviceId);
        await using var after = await ClusterClient.ConnectThroughAsync(restarted, afterCrash, serviceId);
        var inbox = after.Grains.GetGrain<IApprovalInboxGrain>(appId);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        while ((await inbox.ListAsync(null)).Single().State != ApprovalWorkflowState.TimedOut)
        {
            Assert.True(DateTime.UtcNow < deadline, "the workflow's reminder did not apply the deadline within 4 minutes");
            await Task.Delay(250);
        }

        var workflow = await after.Grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(appId, workflowId)).GetAsync();
        Assert.Equal(ApprovalWorkflowState.TimedOut, workflow!.State);
        Assert.Equal(started.CreatedAt, workflow.CreatedAt);
        Assert.Equal(started.CreatedAt + DecisionTimeout, workflow.History.Single(h => h.Event == ApprovalWorkflowStates.TimedOut).At);
        var audit = await AuditLog.Get(after.Grains).QueryAsync(new AuditQuery(Target: $"app:{appId}", Action: "workflow."));
        Assert.Equal("workflow.timed_out", Assert.Single(audit.Entries).Record.Action);
    }
}
