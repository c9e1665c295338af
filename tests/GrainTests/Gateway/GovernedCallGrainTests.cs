using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace MicroApps.Orleans.GrainTests.Gateway;

[Collection(ClusterCollection.Name)]
public sealed class GovernedCallGrainTests(ClusterFixture fixture)
{
    private const string Article =
        "The invoice backlog grew in March. Invoices from the Berlin office were paid late. " +
        "The weather was pleasant. Late invoices cost the company interest on every invoice. " +
        "The finance team will automate invoice approval to clear the invoice backlog. Lunch was served at noon.";

    private static FakeChatClient Fake => PipelineTestSetup.Fake;

    private IGovernedCallGrain Gateway => fixture.Grains.GetGrain<IGovernedCallGrain>(0);

    private async Task<TestApp> NewAppAsync(string[] tiers, string defaultTier, decimal? budgetUsd = 10m, AppQuotas? quotas = null)
    {
        var appId = $"gw-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest(
            "Pipeline test", "ada@example.org", "finance", Audience.Internal, [], tiers, defaultTier, quotas ?? new AppQuotas(0, 0), "", "v1"));
        var key = await app.IssueKeyAsync("test");
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}");
        if (budgetUsd is { } limit)
        {
            await budget.ConfigureAsync(new BudgetSettings(limit, BudgetPeriod.Day));
        }

        return new TestApp(appId, key.ApiKey, app, budget);
    }

    private static GovernedChatRequest Request(TestApp app, string model, string prompt, ChatParameters? parameters = null, string? requestId = null) =>
        new(app.ApiKey, requestId ?? Guid.NewGuid().ToString("N"), model, [new ChatTurn("system", "Answer briefly."), new ChatTurn("user", prompt)], parameters ?? ChatParameters.None);

    private static string Prompt(string what) => $"{what} {Guid.NewGuid():N}";

    private IEnumerable<InMemoryTraceSink> Sinks =>
        fixture.Cluster.Silos.Cast<InProcessSiloHandle>().Select(s => s.SiloHost.Services.GetRequiredService<InMemoryTraceSink>());

    private TraceEvent TraceOf(string requestId) =>
        Sinks.SelectMany(s => s.Recent()).Single(e => e.RequestId == requestId);

    [Fact]
    public async Task The_local_model_answers_end_to_end_at_no_cost()
    {
        var app = await NewAppAsync(["local"], "local", budgetUsd: null);
        var request = new GovernedChatRequest(app.ApiKey, Guid.NewGuid().ToString("N"), "auto", [new ChatTurn("user", Article)], ChatParameters.None);

        var result = await Gateway.CompleteAsync(request);

        Assert.Equal(GovernedOutcome.Completed, result.Outcome);
        Assert.Equal("local-extractive-summarizer", result.Model);
        Assert.Equal("local", result.Tier);
        Assert.Contains("invoice backlog", result.Content);
        Assert.DoesNotContain("weather", result.Content);
        Assert.True(result.Usage.InputTokens > 0 && result.Usage.OutputTokens > 0);
        Assert.Equal(0m, result.CostUsd);
        var trace = TraceOf(request.RequestId);
        Assert.Equal(TraceOutcomes.Success, trace.Outcome);
        Assert.Null(trace.ErrorCode);
        Assert.Equal(app.AppId, trace.AppId);
        Assert.Equal(TraceStep.PromptHash(request.Messages), trace.PromptHash);
        Assert.DoesNotContain(trace.Decisions, d => d.Contains("invoice", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_paid_call_reserves_the_estimate_and_settles_the_reported_usage()
    {
        var app = await NewAppAsync(["standard"], "standard");
        var prompt = Prompt("price this");

        var result = await Gateway.CompleteAsync(Request(app, "fake-small", prompt, new ChatParameters(null, null, 50, null, null)));

        Assert.Equal(GovernedOutcome.Completed, result.Outcome);
        Assert.Equal($"echo: {prompt}", result.Content);
        Assert.Equal(new TokenUsage(FakeChatClient.ReportedInputTokens, FakeChatClient.ReportedOutputTokens), result.Usage);

        // 40 in at $1/1k + 10 out at $2/1k.
        Assert.Equal(0.06m, result.CostUsd);
        Assert.Equal(50, Fake.OptionsByPrompt[prompt]!.MaxOutputTokens);
        var budget = await app.Budget.GetAsync();
        Assert.Equal(0.06m, budget.SpentUsd);
        Assert.Equal(0m, budget.ReservedUsd);
        Assert.Equal(0, budget.ReservationsInFlight);
        var trace = TraceOf(result.RequestId);
        Assert.True(trace.CostEstimateUsd >= trace.CostActualUsd);
        Assert.Equal(0.06m, trace.CostActualUsd);
    }

    [Fact]
    public async Task A_tier_request_reserves_for_its_most_expensive_model()
    {
        var app = await NewAppAsync(["standard"], "standard");
        var request = Request(app, "auto", Prompt("estimate"), new ChatParameters(null, null, 100, null, null));

        var result = await Gateway.CompleteAsync(request);

        Assert.Equal(GovernedOutcome.Completed, result.Outcome);
        Assert.Equal("fake-small", result.Model);
        var trace = TraceOf(request.RequestId);
        var input = Tokens.TokenEstimator.Default.CountMessages(request.Messages);

        // fake-large's $4/1k output on 100 reserved tokens outweighs fake-small's $2/1k.
        var large = new ModelSpec("fake-large", "fake", 0.5m, 4m, 4_000, true);
        Assert.Equal(Tokens.PriceCalculator.Cost(large, input, 100), trace.CostEstimateUsd);
    }

    [Fact]
    public async Task An_identical_request_within_the_ttl_is_a_free_cache_hit_that_skips_the_backend()
    {
        var app = await NewAppAsync(["standard"], "standard");
        var prompt = Prompt("cache me");

        var first = await Gateway.CompleteAsync(Request(app, "fake-small", prompt));
        var second = await Gateway.CompleteAsync(Request(app, "fake-small", "  " + prompt.Replace(" ", "   ") + "\n"));

        Assert.Equal(GovernedOutcome.Completed, first.Outcome);
        Assert.Equal(GovernedOutcome.CacheHit, second.Outcome);
        Assert.Equal(first.Content, second.Content);
        Assert.Equal(0m, second.CostUsd);
        Assert.Equal(1, Fake.CallsTo(prompt));
        Assert.Equal(first.CostUsd, (await app.Budget.GetAsync()).SpentUsd);
        Assert.True(TraceOf(second.RequestId).CacheHit);
    }

    [Fact]
    public async Task After_the_ttl_the_same_request_reaches_the_backend_again()
    {
        var app = await NewAppAsync(["standard"], "standard");
        var prompt = Prompt("expire me");
        await Gateway.CompleteAsync(Request(app, "fake-small", prompt));

        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var later = await Gateway.CompleteAsync(Request(app, "fake-small", prompt));

        Assert.Equal(GovernedOutcome.Completed, later.Outcome);
        Assert.Equal(2, Fake.CallsTo(prompt));
    }

    [Fact]
    public async Task The_cache_is_never_shared_between_apps()
    {
        var first = await NewAppAsync(["standard"], "standard");
        var second = await NewAppAsync(["standard"], "standard");
        var prompt = Prompt("same question");

        var a = await Gateway.CompleteAsync(Request(first, "fake-small", prompt));
        var b = await Gateway.CompleteAsync(Request(second, "fake-small", prompt));

        Assert.Equal(GovernedOutcome.Completed, a.Outcome);
        Assert.Equal(GovernedOutcome.Completed, b.Outcome);
        Assert.Equal(2, Fake.CallsTo(prompt));
    }

    [Fact]
    public async Task A_temperature_above_zero_bypasses_the_cache()
    {
        var app = await NewAppAsync(["standard"], "standard");
        var prompt = Prompt("be creative");
        var creative = new ChatParameters(0.8f, null, null, null, null);

        await Gateway.CompleteAsync(Request(app, "fake-small", prompt, creative));
        var again = await Gateway.CompleteAsync(Request(app, "fake-small", prompt, creative));

        Assert.Equal(GovernedOutcome.Completed, again.Outcome);
        Assert.Equal(2, Fake.CallsTo(prompt));
    }

    [Fact]
    public async Task Refusals_name_the_problem_and_never_reach_a_backend()
    {
        var app = await NewAppAsync(["standard"], "standard");
        var prompt = Prompt("refuse me");

        var badKey = await Gateway.CompleteAsync(Request(app, "fake-small", prompt) with { ApiKey = "sk-not-ours" });
        var wrongSecret = await Gateway.CompleteAsync(Request(app, "fake-small", prompt) with { ApiKey = app.ApiKey[..^2] + "xx" });
        var unknownModel = await Gateway.CompleteAsync(Request(app, "gpt-nonexistent", prompt));
        var notAllowed = await Gateway.CompleteAsync(Request(app, "local", prompt));
        var tooLong = await Gateway.CompleteAsync(Request(app, "fake-small", prompt, new ChatParameters(null, null, 4_000, null, null)));
        var hugeInput = await Gateway.CompleteAsync(Request(app, "fake-small", string.Join(' ', Enumerable.Repeat("invoice", 5_000))));
        var noMessages = await Gateway.CompleteAsync(Request(app, "fake-small", prompt) with { Messages = [] });
        var badTemperature = await Gateway.CompleteAsync(Request(app, "fake-small", prompt, new ChatParameters(3f, null, null, null, null)));
        var longId = await Gateway.CompleteAsync(Request(app, "fake-small", prompt, requestId: new string('r', 200)));

        Assert.Equal(GovernedOutcome.Unauthorized, badKey.Outcome);
        Assert.Equal(GovernedOutcome.Unauthorized, wrongSecret.Outcome);
        Assert.Equal((GovernedOutcome.UnknownModel, "model"), (unknownModel.Outcome, unknownModel.ErrorParam));
        Assert.Equal((GovernedOutcome.Forbidden, "model_not_allowed"), (notAllowed.Outcome, notAllowed.ErrorCode));
        Assert.Equal((GovernedOutcome.InvalidRequest, "max_tokens"), (tooLong.Outcome, tooLong.ErrorParam));
        Assert.Equal((GovernedOutcome.InvalidRequest, "messages"), (hugeInput.Outcome, hugeInput.ErrorParam));
        Assert.Equal((GovernedOutcome.InvalidRequest, "messages"), (noMessages.Outcome, noMessages.ErrorParam));
        Assert.Equal((GovernedOutcome.InvalidRequest, "temperature"), (badTemperature.Outcome, badTemperature.ErrorParam));
        Assert.Equal((GovernedOutcome.InvalidRequest, "request_id"), (longId.Outcome, longId.ErrorParam));
        Assert.Contains("gpt-nonexistent", unknownModel.ErrorMessage);
        Assert.Equal(0, Fake.CallsTo(prompt));
        Assert.Equal(0m, (await app.Budget.GetAsync()).SpentUsd);
        Assert.Equal(TraceOutcomes.Blocked, TraceOf(notAllowed.RequestId).Outcome);
        Assert.Equal("model_not_allowed", TraceOf(notAllowed.RequestId).ErrorCode);
    }

    [Fact]
    public async Task A_call_the_budget_cannot_cover_is_refused_before_the_backend()
    {
        var app = await NewAppAsync(["standard"], "standard", budgetUsd: 0.01m);
        var prompt = Prompt("too dear");

        var result = await Gateway.CompleteAsync(Request(app, "fake-small", prompt, new ChatParameters(null, null, 1_000, null, null)));

        Assert.Equal(GovernedOutcome.BudgetExceeded, result.Outcome);
        Assert.False(string.IsNullOrEmpty(result.ErrorMessage));
        Assert.Equal(0, Fake.CallsTo(prompt));
        var budget = await app.Budget.GetAsync();
        Assert.Equal(0m, budget.SpentUsd + budget.ReservedUsd);
    }

    [Fact]
    public async Task An_app_without_a_budget_may_not_spend()
    {
        var app = await NewAppAsync(["standard"], "standard", budgetUsd: null);

        var result = await Gateway.CompleteAsync(Request(app, "fake-small", Prompt("no budget")));

        Assert.Equal((GovernedOutcome.BudgetExceeded, "budget_not_configured"), (result.Outcome, result.ErrorCode));
    }

    [Fact]
    public async Task The_request_rate_quota_is_enforced_with_retry_after()
    {
        var app = await NewAppAsync(["local"], "local", budgetUsd: null, quotas: new AppQuotas(1, 0));

        var first = await Gateway.CompleteAsync(Request(app, "auto", Prompt("one")));
        var second = await Gateway.CompleteAsync(Request(app, "auto", Prompt("two")));

        Assert.Equal(GovernedOutcome.Completed, first.Outcome);
        Assert.Equal(GovernedOutcome.QuotaExceeded, second.Outcome);
        Assert.NotNull(second.RetryAfter);
    }

    [Fact]
    public async Task A_failing_model_fails_over_to_the_next_and_the_tier_hears_of_it()
    {
        var app = await NewAppAsync(["flaky"], "flaky");
        var prompt = Prompt("fail over");

        var result = await Gateway.CompleteAsync(Request(app, "flaky", prompt));

        Assert.Equal(GovernedOutcome.Completed, result.Outcome);
        Assert.Equal("fake-steady", result.Model);
        Assert.Equal(2, Fake.CallsTo(prompt));
        Assert.Equal("flaky:fake-broken-first>fake-steady", TraceOf(result.RequestId).Route);
        await Eventually.TrueAsync(
            async () => (await fixture.Grains.GetGrain<IModelTierGrain>("flaky").GetRouteAsync()).Health.Single(h => h.Model == "fake-broken-first").Failures > 0,
            "the tier to record the failure");
    }

    [Fact]
    public async Task When_every_model_fails_the_call_fails_and_the_reservation_is_released()
    {
        var app = await NewAppAsync(["dead"], "dead");

        var result = await Gateway.CompleteAsync(Request(app, "dead", Prompt("nobody home")));

        Assert.Equal(GovernedOutcome.BackendFailed, result.Outcome);
        Assert.Contains("fake-broken-only", result.ErrorMessage);
        var budget = await app.Budget.GetAsync();
        Assert.Equal(0m, budget.SpentUsd);
        Assert.Equal(0m, budget.ReservedUsd);
        Assert.Equal(TraceOutcomes.Error, TraceOf(result.RequestId).Outcome);
        Assert.NotNull(result.ErrorCode);
        Assert.Equal(result.ErrorCode, TraceOf(result.RequestId).ErrorCode);
    }

    [Fact]
    public async Task A_stream_delivers_deltas_then_a_final_chunk_with_usage_and_cost()
    {
        var app = await NewAppAsync(["standard"], "standard");
        var prompt = Prompt("stream me");

        var chunks = new List<GovernedChatChunk>();
        await foreach (var chunk in Gateway.StreamAsync(Request(app, "fake-small", prompt)))
        {
            chunks.Add(chunk);
        }

        var final = chunks[^1].Final;
        Assert.NotNull(final);
        Assert.Equal(GovernedOutcome.Completed, final.Outcome);
        Assert.True(chunks.Count > 2);
        Assert.All(chunks[..^1], c => Assert.Null(c.Final));
        Assert.Equal(final.Content, string.Concat(chunks[..^1].Select(c => c.Delta)));
        Assert.Equal($"echo: {prompt}", final.Content.Trim());
        Assert.Equal(0.06m, final.CostUsd);
        Assert.Equal(0.06m, (await app.Budget.GetAsync()).SpentUsd);
    }

    [Fact]
    public async Task A_stream_of_the_local_model_ends_with_its_usage()
    {
        var app = await NewAppAsync(["local"], "local", budgetUsd: null);

        var chunks = new List<GovernedChatChunk>();
        await foreach (var chunk in Gateway.StreamAsync(new GovernedChatRequest(app.ApiKey, "", "local", [new ChatTurn("user", Article)], ChatParameters.None)))
        {
            chunks.Add(chunk);
        }

        var final = chunks[^1].Final!;
        Assert.Equal(GovernedOutcome.Completed, final.Outcome);
        Assert.Equal(final.Content, string.Concat(chunks[..^1].Select(c => c.Delta)));
        Assert.Equal(Tokens.TokenEstimator.Default.CountText(final.Content), final.Usage.OutputTokens);
        Assert.False(string.IsNullOrEmpty(final.RequestId));
    }

    [Fact]
    public async Task A_refused_stream_yields_only_a_final_chunk()
    {
        var chunks = new List<GovernedChatChunk>();
        await foreach (var chunk in Gateway.StreamAsync(new GovernedChatRequest("nope", "r1", "auto", [new ChatTurn("user", "hi")], ChatParameters.None)))
        {
            chunks.Add(chunk);
        }

        var only = Assert.Single(chunks);
        Assert.Equal(GovernedOutcome.Unauthorized, only.Final!.Outcome);
    }

    [Fact]
    public async Task A_stream_the_caller_stops_early_is_still_settled()
    {
        var app = await NewAppAsync(["slow"], "slow");
        var prompt = Prompt("stop early");

        await foreach (var chunk in Gateway.StreamAsync(Request(app, "slow", prompt)))
        {
            Assert.Equal("first piece", chunk.Delta);
            break;
        }

        await Eventually.TrueAsync(async () => (await app.Budget.GetAsync()) is { ReservedUsd: 0m, SpentUsd: > 0m }, "the abandoned stream to settle");
        Assert.True(Fake.CancelledPrompts[prompt]);
    }

    [Fact]
    public async Task Listing_models_shows_the_apps_tiers_and_costs_no_quota()
    {
        var app = await NewAppAsync(["local", "standard"], "local", budgetUsd: null, quotas: new AppQuotas(1, 0));

        var listing = await Gateway.ListModelsAsync(app.ApiKey);
        await Gateway.ListModelsAsync(app.ApiKey);
        var call = await Gateway.CompleteAsync(Request(app, "auto", Prompt("after listing")));
        var refused = await Gateway.ListModelsAsync(app.ApiKey[..^2] + "xx");

        Assert.Equal(GovernedOutcome.Completed, listing.Outcome);
        Assert.Equal(["local-extractive-summarizer", "fake-small", "fake-large"], listing.Models.Select(m => m.Name));
        Assert.Equal(2m, listing.Models.Single(m => m.Name == "fake-small").OutputPricePer1K);
        Assert.Equal(GovernedOutcome.Completed, call.Outcome);
        Assert.Equal(GovernedOutcome.Unauthorized, refused.Outcome);
        Assert.Empty(refused.Models);
    }

    [Fact]
    public async Task A_retried_request_id_is_charged_once()
    {
        var app = await NewAppAsync(["standard"], "standard");
        var requestId = Guid.NewGuid().ToString("N");
        var creative = new ChatParameters(0.5f, null, null, null, null);

        var first = await Gateway.CompleteAsync(Request(app, "fake-small", Prompt("retry"), creative, requestId));
        var retry = await Gateway.CompleteAsync(Request(app, "fake-small", Prompt("retry"), creative, requestId));

        Assert.Equal(GovernedOutcome.Completed, first.Outcome);
        Assert.Equal((GovernedOutcome.InvalidRequest, "request_id"), (retry.Outcome, retry.ErrorParam));
        Assert.Equal(first.CostUsd, (await app.Budget.GetAsync()).SpentUsd);
    }

    private sealed record TestApp(string AppId, string ApiKey, IMicroAppGrain App, IBudgetGrain Budget);
}
