using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Caching;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.GrainTests.Gateway;
using MicroApps.Orleans.Savings;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace MicroApps.Orleans.GrainTests.Caching;

/// <summary>The near-duplicate cache through the governed call (fake backend of <see cref="PipelineTestSetup"/>).</summary>
[Collection(ClusterCollection.Name)]
public sealed class NearDuplicatePipelineTests(ClusterFixture fixture)
{
    private static FakeChatClient Fake => PipelineTestSetup.Fake;

    private IGovernedCallGrain Gateway => fixture.Grains.GetGrain<IGovernedCallGrain>(0);

    private async Task<(string AppId, string ApiKey, IBudgetGrain Budget)> NewAppAsync(string[]? dataClasses = null, NearDuplicateSettings? near = null)
    {
        var appId = $"nd-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest(
            "Near-duplicate test", "ada@example.org", "finance", Audience.Internal, dataClasses ?? ["internal"], ["standard"], "standard",
            new AppQuotas(0, 0), "", "v1", Savings: near is null ? null : new SavingsSettings(NearDuplicate: near)));
        var key = await app.IssueKeyAsync("test");
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}");
        await budget.ConfigureAsync(new BudgetSettings(10m, BudgetPeriod.Day));
        return (appId, key.ApiKey, budget);
    }

    private static GovernedChatRequest Request(string apiKey, string prompt) =>
        new(apiKey, Guid.NewGuid().ToString("N"), "fake-small", [new ChatTurn("system", "Answer briefly."), new ChatTurn("user", prompt)], ChatParameters.None);

    private IEnumerable<InMemoryTraceSink> Sinks =>
        fixture.Cluster.Silos.Cast<InProcessSiloHandle>().Select(s => s.SiloHost.Services.GetRequiredService<InMemoryTraceSink>());

    private TraceEvent TraceOf(string requestId) => Sinks.SelectMany(s => s.Recent()).Single(e => e.RequestId == requestId);

    // A word of its own per test, in both phrasings: the fake backend counts calls per prompt, and no other test's
    // answer can match.
    private static string Topic() => "zq" + Guid.NewGuid().ToString("N")[..10].Replace('0', 'x');

    private async Task StoredAsync(string appId)
    {
        var near = fixture.Grains.GetGrain<INearDuplicateCacheGrain>(appId);
        await Eventually.TrueAsync(async () => (await near.GetStatsAsync()).Entries >= 1, "the near-duplicate put");
    }

    [Fact]
    public async Task A_paraphrase_is_served_from_the_near_duplicate_cache_at_no_cost_and_traced_as_such()
    {
        var app = await NewAppAsync();
        var topic = Topic();
        var original = $"How do I reset the {topic} password?";
        var paraphrase = $"hi, how can I reset my {topic} password please";

        var first = await Gateway.CompleteAsync(Request(app.ApiKey, original));
        await StoredAsync(app.AppId);
        var second = await Gateway.CompleteAsync(Request(app.ApiKey, paraphrase));

        Assert.Equal(GovernedOutcome.Completed, first.Outcome);
        Assert.Equal(GovernedOutcome.CacheHit, second.Outcome);
        Assert.Equal(first.Content, second.Content);
        Assert.Equal(0m, second.CostUsd);
        Assert.Equal(0, Fake.CallsTo(paraphrase));
        Assert.Equal(first.CostUsd, (await app.Budget.GetAsync()).SpentUsd);
        var trace = TraceOf(second.RequestId);
        Assert.True(trace.CacheHit);
        Assert.Equal(SavingKinds.NearDuplicate, trace.Saving);
        Assert.Contains(trace.Decisions, d => d.StartsWith("cache:near-hit:", StringComparison.Ordinal));
        Assert.Equal((FakeChatClient.ReportedInputTokens, FakeChatClient.ReportedOutputTokens), (trace.TokensIn, trace.TokensOut));
        Assert.Equal(1, (await fixture.Grains.GetGrain<INearDuplicateCacheGrain>(app.AppId).GetStatsAsync()).NearHits);

        // An exact repeat is still an exact hit, reported as one.
        var repeat = await Gateway.CompleteAsync(Request(app.ApiKey, original));
        Assert.Equal(SavingKinds.Cache, TraceOf(repeat.RequestId).Saving);
        Assert.Contains("cache:hit", TraceOf(repeat.RequestId).Decisions);
    }

    [Fact]
    public async Task The_same_paraphrase_from_another_app_is_never_served_another_apps_answer()
    {
        var first = await NewAppAsync();
        var second = await NewAppAsync();
        var topic = Topic();

        await Gateway.CompleteAsync(Request(first.ApiKey, $"What is the {topic} refund policy?"));
        await StoredAsync(first.AppId);
        var other = await Gateway.CompleteAsync(Request(second.ApiKey, $"what's the {topic} refund policy"));

        Assert.Equal(GovernedOutcome.Completed, other.Outcome);
        Assert.Equal(1, Fake.CallsTo($"what's the {topic} refund policy"));
        Assert.DoesNotContain(TraceOf(other.RequestId).Decisions, d => d.StartsWith("cache:near-hit", StringComparison.Ordinal));
        var otherStats = await fixture.Grains.GetGrain<INearDuplicateCacheGrain>(second.AppId).GetStatsAsync();
        Assert.Equal((0L, 1L), (otherStats.NearHits, otherStats.Misses));
    }

    [Fact]
    public async Task An_app_that_declares_pii_gets_no_near_duplicate_hits_unless_it_opts_in()
    {
        var pii = await NewAppAsync(["email", "internal"]);
        var optedIn = await NewAppAsync(["email"], new NearDuplicateSettings(true));
        var topic = Topic();
        var original = $"Summarise the {topic} meeting notes.";
        var paraphrase = $"Please summarize the {topic} meeting notes";

        await Gateway.CompleteAsync(Request(pii.ApiKey, original));
        var piiSecond = await Gateway.CompleteAsync(Request(pii.ApiKey, paraphrase));
        await Gateway.CompleteAsync(Request(optedIn.ApiKey, original));
        await StoredAsync(optedIn.AppId);
        var optedInSecond = await Gateway.CompleteAsync(Request(optedIn.ApiKey, paraphrase));

        Assert.Equal(GovernedOutcome.Completed, piiSecond.Outcome);

        // The lookup is awaited before the backend call, so a cache that was consulted has counted a miss by now.
        var piiStats = await fixture.Grains.GetGrain<INearDuplicateCacheGrain>(pii.AppId).GetStatsAsync();
        Assert.Equal((0, 0L, 0L), (piiStats.Entries, piiStats.NearHits, piiStats.Misses));
        Assert.Equal(GovernedOutcome.CacheHit, optedInSecond.Outcome);
        Assert.Equal(1, Fake.CallsTo(paraphrase));
    }

    [Fact]
    public async Task A_request_containing_pii_is_never_answered_by_a_near_duplicate()
    {
        var app = await NewAppAsync();
        var topic = Topic();
        var original = $"What is the {topic} order status for ada.lovelace@example.org?";
        var paraphrase = $"what's the {topic} order status for ada.lovelace@example.org";

        var first = await Gateway.CompleteAsync(Request(app.ApiKey, original));
        var second = await Gateway.CompleteAsync(Request(app.ApiKey, paraphrase));

        Assert.Equal(GovernedOutcome.Completed, first.Outcome);
        Assert.Equal(GovernedOutcome.Completed, second.Outcome);
        Assert.Equal(1, Fake.CallsTo(paraphrase));
        Assert.Contains("email", TraceOf(second.RequestId).Decisions.Single(d => d.StartsWith("pii:", StringComparison.Ordinal)));
        var stats = await fixture.Grains.GetGrain<INearDuplicateCacheGrain>(app.AppId).GetStatsAsync();
        Assert.Equal((0, 0L, 0L), (stats.Entries, stats.NearHits, stats.Misses));
    }

    [Theory]
    [InlineData("Convert 100 USD to EUR for {0}", "Convert 200 USD to EUR for {0}")]
    [InlineData("Is the {0} garage open on Sundays?", "Is the {0} garage not open on Sundays?")]
    [InlineData("What is the capital of France, {0}?", "What is the capital of Spain, {0}?")]
    [InlineData("Flights from London to Paris for {0}", "Flights from Paris to London for {0}")]
    public async Task Distinct_requests_that_look_alike_reach_the_backend(string original, string lookalike)
    {
        var app = await NewAppAsync();
        var topic = Topic();
        original = string.Format(System.Globalization.CultureInfo.InvariantCulture, original, topic);
        lookalike = string.Format(System.Globalization.CultureInfo.InvariantCulture, lookalike, topic);

        await Gateway.CompleteAsync(Request(app.ApiKey, original));
        await StoredAsync(app.AppId);
        var second = await Gateway.CompleteAsync(Request(app.ApiKey, lookalike));

        Assert.Equal(GovernedOutcome.Completed, second.Outcome);
        Assert.Equal($"echo: {lookalike}", second.Content);
        Assert.Equal(1, Fake.CallsTo(lookalike));
    }

    [Fact]
    public async Task A_different_system_prompt_is_another_context()
    {
        var app = await NewAppAsync();
        var topic = Topic();
        await Gateway.CompleteAsync(Request(app.ApiKey, $"How do I reset the {topic} password?"));
        await StoredAsync(app.AppId);
        var paraphrase = $"how can I reset the {topic} password";

        var other = await Gateway.CompleteAsync(Request(app.ApiKey, paraphrase) with
        {
            Messages = [new ChatTurn("system", "Answer at length."), new ChatTurn("user", paraphrase)],
        });

        Assert.Equal(GovernedOutcome.Completed, other.Outcome);
        Assert.Equal(1, Fake.CallsTo(paraphrase));
    }
}
