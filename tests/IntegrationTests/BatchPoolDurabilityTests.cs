using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Batch;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.IntegrationTests.Infrastructure;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>
/// The batch pool on Azurite: a job survives its silo being killed mid-job, the pool's reminder resumes it on a new
/// cluster of the same service, and every item is charged exactly once.
/// </summary>
public sealed class BatchPoolDurabilityTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private const int Items = 60;

    // The built-in local model, priced so every item is charged; one item at a time so the kill lands mid-job.
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Models__Tiers__local__Models__0__Name"] = "local-extractive-summarizer",
        ["Models__Tiers__local__Models__0__Backend"] = "local",
        ["Models__Tiers__local__Models__0__InputPricePer1K"] = "0.5",
        ["Models__Tiers__local__Models__0__OutputPricePer1K"] = "1.5",
        ["Savings__BatchPool__Tier"] = "local",
        ["Savings__BatchPool__MaxConcurrent"] = "1",
        ["Savings__BatchPool__PollInterval"] = "00:00:00.100",
    };

    [Fact]
    public async Task A_job_interrupted_by_a_silo_kill_finishes_on_a_new_cluster_with_every_item_charged_once()
    {
        var serviceId = TestEnvironment.NewId("svc");
        var clusterId = TestEnvironment.NewId("cluster");
        var appId = TestEnvironment.NewId("batch");
        var jobId = BatchJobRules.NewJobId();
        string apiKey;
        int completedAtKill;
        var silo = await SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId, Settings);
        try
        {
            await using var client = await ClusterClient.ConnectThroughAsync(silo, clusterId, serviceId);
            var app = client.Grains.GetGrain<IMicroAppGrain>(appId);
            await app.CreateAsync(new AppManifest("Nightly summaries", "ada@example.org", "finance", Audience.Internal, [], ["local"], "local",
                new AppQuotas(0, 0), "", "v1"));
            apiKey = (await app.IssueKeyAsync("nightly")).ApiKey;
            await client.Grains.GetGrain<IBudgetGrain>($"app:{appId}").ConfigureAsync(new BudgetSettings(100m, BudgetPeriod.Month));

            var requests = Enumerable.Range(1, Items)
                .Select(n => new BatchItemRequest($"day-{n:00}", [new ChatTurn("user", $"Day {n:00} report. Sales grew in the north. Returns fell in the south. The team met targets.")], ChatParameters.None))
                .ToArray();
            var submitted = await client.Grains.GetGrain<IBatchJobGrain>(jobId).SubmitAsync(new BatchJobSubmission(apiKey, requests));
            Assert.Equal(BatchReplyOutcome.Ok, submitted.Outcome);

            // Kill -9 once some items are done and most are not.
            var job = client.Grains.GetGrain<IBatchJobGrain>(jobId);
            completedAtKill = await WaitForAsync(async () => (await job.GetAsync(apiKey)).Job!.Counts.Completed, done => done >= 3,
                TimeSpan.FromSeconds(60), "the first items to complete");
            silo.Kill();
        }
        finally
        {
            await silo.DisposeAsync();
        }

        Assert.True(completedAtKill < Items, $"the job finished ({completedAtKill} items) before the silo was killed");

        // A new cluster of the same service; the test only reads the job: the pool's reminder must resume it.
        var afterCrash = TestEnvironment.NewId("cluster");
        await using var restarted = await SiloProcess.StartAsync(storage.ConnectionString, afterCrash, serviceId, Settings);
        await using var reader = await ClusterClient.ConnectThroughAsync(restarted, afterCrash, serviceId);
        var resumed = reader.Grains.GetGrain<IBatchJobGrain>(jobId);
        await WaitForAsync(async () => (await resumed.GetAsync(apiKey)).Job!, j => j.Status == BatchJobStatuses.Completed,
            TimeSpan.FromMinutes(4), "the reminder to resume the job and finish it");

        var reply = await resumed.GetResultsAsync(apiKey);
        var results = reply.Results!;
        Assert.Equal(Items, results.Count);
        Assert.All(results, r =>
        {
            Assert.Equal(BatchItemStatuses.Completed, r.Status);
            Assert.True(r.CostUsd > 0m, $"{r.CustomId} was not charged");
        });
        Assert.Contains(results, r => r.Content is { Length: > 0 });

        // Exactly once: the budget spent what the items cost, no more (a double charge) and no less (a lost one).
        var budget = await reader.Grains.GetGrain<IBudgetGrain>($"app:{appId}").GetAsync();
        Assert.Equal(results.Sum(r => r.CostUsd), budget.SpentUsd);
        Assert.Equal(reply.Job!.CostUsd, budget.SpentUsd);
        Assert.Equal(0m, budget.ReservedUsd);
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            T value;
            try
            {
                value = await read();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                // The cluster may refuse calls for a few seconds around a silo's start.
                await Task.Delay(200);
                continue;
            }

            if (done(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what} (last: {value}).");
            await Task.Delay(50);
        }
    }
}
