using System.Diagnostics;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Caching;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.IntegrationTests.Infrastructure;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>The response cache through the governed call, with the built-in local model, on real silos.</summary>
public sealed class CacheAcrossAppsTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    // One shard, so the test can see the entry land before it asks again; priced so a miss costs something.
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Gateway__CacheShards"] = "1",
        ["Gateway__CacheTtl"] = "00:10:00",
        ["Models__Tiers__local__Models__0__Name"] = "local-extractive-summarizer",
        ["Models__Tiers__local__Models__0__Backend"] = "local",
        ["Models__Tiers__local__Models__0__InputPricePer1K"] = "0.5",
        ["Models__Tiers__local__Models__0__OutputPricePer1K"] = "1.5",
    };

    [Fact]
    public async Task An_identical_request_is_a_free_cache_hit_for_the_same_app_and_a_paid_miss_for_another_app()
    {
        var serviceId = TestEnvironment.NewId("svc");
        var clusterId = TestEnvironment.NewId("cluster");
        var silos = await Task.WhenAll(
            SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId, Settings),
            SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId, Settings));
        await using var silo1 = silos[0];
        await using var silo2 = silos[1];
        await using var client = await ClusterClient.ConnectAsync(storage.ConnectionString, clusterId, serviceId);

        var keyA = await CreateAppAsync(client, TestEnvironment.NewId("cache-a"));
        var keyB = await CreateAppAsync(client, TestEnvironment.NewId("cache-b"));
        var gateway = client.Grains.GetGrain<IGovernedCallGrain>(0);
        ChatTurn[] messages =
        [
            new("system", "Summarize the text in one sentence."),
            new("user", "Orleans grains are virtual actors. Every budget is a grain, so spend is decided in one place. Silos can be added at any time."),
        ];

        var first = await gateway.CompleteAsync(new GovernedChatRequest(keyA, "a-1", "auto", messages, ChatParameters.None));
        Assert.Equal(GovernedOutcome.Completed, first.Outcome);
        Assert.True(first.CostUsd > 0m, "a miss on a priced model must cost something");
        Assert.False(string.IsNullOrWhiteSpace(first.Content));

        // The cache write is one-way; wait until the entry is stored rather than guessing a delay.
        var shard = client.Grains.GetGrain<ICacheShardGrain>(0);
        var deadline = Stopwatch.StartNew();
        while ((await shard.GetStatsAsync()).Entries < 1)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "the completion never reached the cache shard");
            await Task.Delay(50);
        }

        var second = await gateway.CompleteAsync(new GovernedChatRequest(keyA, "a-2", "auto", messages, ChatParameters.None));
        Assert.Equal(GovernedOutcome.CacheHit, second.Outcome);
        Assert.Equal(0m, second.CostUsd);
        Assert.Equal(first.Content, second.Content);

        var otherApp = await gateway.CompleteAsync(new GovernedChatRequest(keyB, "b-1", "auto", messages, ChatParameters.None));
        Assert.Equal(GovernedOutcome.Completed, otherApp.Outcome);
        Assert.True(otherApp.CostUsd > 0m, "another app's identical request must be a paid miss, not a shared hit");

        var appA = await client.Grains.GetGrain<IMicroAppGrain>(ApiKeyAppId(keyA)).GetAsync();
        var budgetA = await client.Grains.GetGrain<IBudgetGrain>(appA!.EffectiveBudgetId).GetAsync();
        Assert.Equal(first.CostUsd, budgetA.SpentUsd);
        Assert.Equal(0m, budgetA.ReservedUsd);
    }

    private static async Task<string> CreateAppAsync(ClusterClient client, string appId)
    {
        var app = client.Grains.GetGrain<IMicroAppGrain>(appId);
        var info = await app.CreateAsync(new AppManifest($"Cache test {appId}", "owner@example.org", "platform", Audience.Internal,
            [], ["local"], "local", new AppQuotas(0, 0), "", "v1"));
        await client.Grains.GetGrain<IBudgetGrain>(info.EffectiveBudgetId).ConfigureAsync(new BudgetSettings(5m, BudgetPeriod.Day));
        return (await app.IssueKeyAsync("cache test")).ApiKey;
    }

    private static string ApiKeyAppId(string apiKey) =>
        ApiKeys.TryParse(apiKey, out var appId, out _, out _) ? appId : throw new ArgumentException("not an app key", nameof(apiKey));
}
