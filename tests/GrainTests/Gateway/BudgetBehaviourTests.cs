using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace MicroApps.Orleans.GrainTests.Gateway;

/// <summary>What a governed call meets when its budget cannot cover it: degrade to the cheaper tier, or soft shutdown.</summary>
[Collection(ClusterCollection.Name)]
public sealed class BudgetBehaviourTests(ClusterFixture fixture)
{
    private const string Article =
        "The invoice backlog grew in March. Invoices from the Berlin office were paid late. " +
        "The finance team will automate invoice approval to clear the invoice backlog.";

    private IGovernedCallGrain Gateway => fixture.Grains.GetGrain<IGovernedCallGrain>(0);

    private async Task<(string ApiKey, IBudgetGrain Budget)> NewAppAsync(string[] tiers, decimal limit, BudgetExceededBehavior onExceeded)
    {
        var appId = $"bb-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest("Budget behaviour", "ada@example.org", "finance", Audience.Internal, [], tiers, tiers[0], new AppQuotas(0, 0), "", "v1"));
        var key = await app.IssueKeyAsync("test");
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}");
        await budget.ConfigureAsync(new BudgetSettings(limit, BudgetPeriod.Day) { OnExceeded = onExceeded });
        return (key.ApiKey, budget);
    }

    private static GovernedChatRequest Request(string apiKey, string model, int maxTokens = 1_000) =>
        new(apiKey, Guid.NewGuid().ToString("N"), model, [new ChatTurn("user", $"{Article} {Guid.NewGuid():N}")], new ChatParameters(null, null, maxTokens, null, null));

    private TraceEvent TraceOf(string requestId) =>
        fixture.Cluster.Silos.Cast<InProcessSiloHandle>()
            .SelectMany(s => s.SiloHost.Services.GetRequiredService<InMemoryTraceSink>().Recent())
            .Single(e => e.RequestId == requestId);

    [Fact]
    public async Task Degrade_serves_a_call_the_budget_cannot_cover_on_the_free_local_tier()
    {
        var (apiKey, budget) = await NewAppAsync(["standard"], 0.01m, BudgetExceededBehavior.Degrade);
        var request = Request(apiKey, "fake-small");

        var result = await Gateway.CompleteAsync(request);

        Assert.Equal(GovernedOutcome.Completed, result.Outcome);
        Assert.Equal("local", result.Tier);
        Assert.Equal("local-extractive-summarizer", result.Model);
        Assert.Equal(0m, result.CostUsd);
        Assert.Contains(TraceOf(request.RequestId).Decisions, d => d.Contains("degraded:standard->local", StringComparison.Ordinal));
        var snapshot = await budget.GetAsync();
        Assert.Equal(0m, snapshot.SpentUsd + snapshot.ReservedUsd);
    }

    [Fact]
    public async Task Degrade_leaves_calls_that_fit_on_their_tier()
    {
        var (apiKey, _) = await NewAppAsync(["standard"], 10m, BudgetExceededBehavior.Degrade);

        var result = await Gateway.CompleteAsync(Request(apiKey, "fake-small", maxTokens: 50));

        Assert.Equal(GovernedOutcome.Completed, result.Outcome);
        Assert.Equal("standard", result.Tier);
    }

    [Fact]
    public async Task Throttle_refuses_the_same_call()
    {
        var (apiKey, _) = await NewAppAsync(["standard"], 0.01m, BudgetExceededBehavior.Throttle);

        var result = await Gateway.CompleteAsync(Request(apiKey, "fake-small"));

        Assert.Equal((GovernedOutcome.BudgetExceeded, "budget_exceeded"), (result.Outcome, result.ErrorCode));
    }

    [Fact]
    public async Task Soft_shutdown_refuses_paid_and_free_calls_with_budget_soft_shutdown()
    {
        var (apiKey, budget) = await NewAppAsync(["standard", "local"], 1m, BudgetExceededBehavior.SoftShutdown);
        await budget.ReserveAsync("spent", 1m);
        await budget.SettleAsync("spent", 1m);

        var paid = await Gateway.CompleteAsync(Request(apiKey, "fake-small", maxTokens: 10));
        var free = Request(apiKey, "local");
        var freeResult = await Gateway.CompleteAsync(free);

        Assert.Equal((GovernedOutcome.BudgetExceeded, "budget_soft_shutdown"), (paid.Outcome, paid.ErrorCode));
        Assert.Equal((GovernedOutcome.BudgetExceeded, "budget_soft_shutdown"), (freeResult.Outcome, freeResult.ErrorCode));
        Assert.Contains("acknowledge", paid.ErrorMessage);
        Assert.True(paid.RetryAfter > TimeSpan.Zero);
        Assert.Contains(TraceOf(free.RequestId).Decisions, d => d.EndsWith(":soft-shutdown", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Calls_go_on_after_the_owner_acknowledges_a_soft_shutdown_with_a_raised_limit()
    {
        var (apiKey, budget) = await NewAppAsync(["standard", "local"], 1m, BudgetExceededBehavior.SoftShutdown);
        await budget.ReserveAsync("spent", 1m);
        await budget.SettleAsync("spent", 1m);
        await budget.ConfigureAsync(new BudgetSettings(10m, BudgetPeriod.Day));
        Assert.Equal("budget_soft_shutdown", (await Gateway.CompleteAsync(Request(apiKey, "fake-small", maxTokens: 10))).ErrorCode);

        await budget.AcknowledgeAsync("ada@example.org");

        Assert.Equal(GovernedOutcome.Completed, (await Gateway.CompleteAsync(Request(apiKey, "fake-small", maxTokens: 10))).Outcome);
    }
}
