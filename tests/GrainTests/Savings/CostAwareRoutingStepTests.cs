using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Savings;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.GrainTests.Savings;

/// <summary>
/// The savings router step against the cluster's quality and tier grains, with its own catalog: its premium and "econ"
/// tiers are not configured in the shared cluster, so their routes come from this catalog, and its model names are the
/// cluster's, so the quality grains accept their evidence.
/// Adaptive sampling is driven by the app profile's premium share, which the app grain computes elsewhere.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CostAwareRoutingStepTests(ClusterFixture fixture)
{
    private static readonly ModelCatalog Catalog = new(new ModelCatalogOptions
    {
        Tiers = new(StringComparer.OrdinalIgnoreCase)
        {
            ["premium"] = new() { Models = [Model("fake-steady", 10m, 30m)] },
            ["econ"] = new() { Models = [Model("fake-small", 1m, 2m), Model("fake-breaker-a", 0.5m, 1m)] },
            ["local"] = new() { Models = [Model("local-extractive-summarizer", 0m, 0m)] },
        },
    });

    private static ModelOptions Model(string name, decimal input, decimal output) =>
        new() { Name = name, Backend = "fake", InputPricePer1K = input, OutputPricePer1K = output, ContextWindow = 100_000, External = true };

    private sealed class CountingShadow : IShadowEvaluator
    {
        public List<GovernedCallContext> Seen { get; } = [];

        public void Consider(GovernedCallContext context) => Seen.Add(context);
    }

    private CostAwareRouteStep Step(IShadowEvaluator? shadow = null, int minEvidence = 3) => new(
        fixture.Grains,
        Catalog,
        new TierRouteCache(fixture.Grains, Options.Create(new GatewayOptions { RouteCacheDuration = TimeSpan.Zero }), ClusterFixture.Time),
        shadow ?? new NoShadowEvaluator(),
        Options.Create(new SavingsRoutingOptions { MinEvidence = minEvidence, QualityCacheDuration = TimeSpan.Zero }),
        Options.Create(new SavingsRoutingSamplingOptions { FallbackTier = "econ" }),
        ClusterFixture.Time,
        NullLogger<CostAwareRouteStep>.Instance);

    private static GovernedCallContext Call(string text, SavingsSettings? savings, double? premiumShare, string selection = "tier:premium", string[]? allowed = null, CompiledPolicySet? policies = null)
    {
        var requestId = "step-" + Guid.NewGuid().ToString("N");
        var premium = Catalog.ModelsOf("premium")[0];
        return new GovernedCallContext(new GovernedChatRequest("k", requestId, "premium", [new ChatTurn("user", text)], ChatParameters.None), requestId, ClusterFixture.Time, null, CancellationToken.None)
        {
            App = new AppProfile("step-app", "team", Audience.Internal, [], allowed ?? ["econ", "premium", "local"], "premium", "budget", "p@1", Savings: savings, PremiumShare: premiumShare),
            Tier = "premium",
            Selection = selection,
            Candidates = [premium],
            BaselineModel = premium,
            InputTokens = 100,
            ReservedOutputTokens = 50,
            PolicySet = policies ?? CompiledPolicySet.None,
        };
    }

    private static async Task<bool> RunAsync(CostAwareRouteStep step, GovernedCallContext context)
    {
        var reached = false;
        await step.InvokeAsync(context, _ => { reached = true; return ValueTask.CompletedTask; });
        return reached;
    }

    private async Task EvidenceAsync(string queryType, string model, double score, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await fixture.Grains.GetGrain<IModelQualityGrain>(queryType)
                .RecordAsync(new QualityEvidence($"step-{queryType}-{model}-{score}-{i}", model, queryType, QualitySources.Shadow, score, ClusterFixture.Time.GetUtcNow()));
        }
    }

    [Fact]
    public async Task A_share_of_one_keeps_every_premium_call_on_premium()
    {
        var context = Call("Hello there", null, premiumShare: 1.0);

        Assert.True(await RunAsync(Step(), context));

        Assert.Equal("premium", context.Tier);
        Assert.Null(context.Saving);
        Assert.Equal(["fake-steady"], context.Candidates.Select(c => c.Name));
        Assert.Contains("sampling: kept on fake-steady [premium]", context.RouteReason);
    }

    [Fact]
    public async Task A_sampled_out_call_goes_to_the_best_estimated_cheaper_model_and_keeps_premium_as_fallback()
    {
        // Declared task code: fake-breaker-a is better than fake-small there (by trusted evidence).
        await EvidenceAsync(QueryTypes.Code, "fake-breaker-a", 0.97, 3);
        await EvidenceAsync(QueryTypes.Code, "fake-small", 0.2, 3);
        var context = Call("Hello there", new SavingsSettings(Task: "code"), premiumShare: 0.0);

        Assert.True(await RunAsync(Step(), context));

        Assert.Equal("econ", context.Tier);
        Assert.Equal(SavingKinds.Sampling, context.Saving);
        Assert.Equal("fake-breaker-a", context.Candidates[0].Name);
        Assert.Equal("fake-steady", context.Candidates[^1].Name);
        Assert.Equal("tier:premium", context.Selection);
        Assert.Contains("sampling: moved to fake-breaker-a [econ]", context.RouteReason);
        Assert.Contains(context.Decisions, d => d == "savings:route:code:sampled-out:fake-breaker-a");
    }

    [Fact]
    public async Task Without_evidence_a_sampled_out_call_goes_to_the_fallback_tiers_first_model()
    {
        // MinEvidence out of reach: no cheaper model has trusted evidence, whatever other tests recorded.
        var context = Call("Hello there", new SavingsSettings(Task: "chat"), premiumShare: 0.0);

        Assert.True(await RunAsync(Step(minEvidence: 1_000_000), context));

        Assert.Equal("econ", context.Tier);
        Assert.Equal(SavingKinds.Sampling, context.Saving);
        Assert.Equal(["fake-small", "fake-steady"], context.Candidates.Select(c => c.Name));
        Assert.Contains("first model of the sampling fallback tier", context.RouteReason);
    }

    [Fact]
    public async Task A_sampled_out_call_stays_when_the_app_may_not_use_a_cheaper_tier()
    {
        var context = Call("Hello there", null, premiumShare: 0.0, allowed: ["premium"]);

        Assert.True(await RunAsync(Step(minEvidence: 1_000_000), context));

        Assert.Equal("premium", context.Tier);
        Assert.Null(context.Saving);
        Assert.Contains("no cheaper model is allowed", context.RouteReason);
    }

    [Fact]
    public async Task Routing_picks_the_cheapest_qualifying_model_with_the_others_and_the_original_route_as_fallbacks()
    {
        await EvidenceAsync(QueryTypes.Extract, "fake-small", 0.99, 3);
        await EvidenceAsync(QueryTypes.Extract, "local-extractive-summarizer", 0.3, 3);
        var context = Call("Extract the invoice number from: INV-7", new SavingsSettings(Routing: true, QualitySlo: 0.9), premiumShare: null);

        Assert.True(await RunAsync(Step(), context));

        Assert.Equal(QueryTypes.Extract, context.QueryType);
        Assert.Equal(SavingKinds.Routing, context.Saving);
        Assert.Equal("econ", context.Tier);
        Assert.Equal("fake-small", context.Candidates[0].Name);
        Assert.Equal("fake-steady", context.Candidates[^1].Name);
        Assert.DoesNotContain(context.Candidates, c => c.Name == "local-extractive-summarizer");
        Assert.Contains("local-extractive-summarizer [local] score 0.3", context.RouteReason);
    }

    [Fact]
    public async Task A_policy_routing_another_tier_elsewhere_makes_its_models_ineligible()
    {
        await EvidenceAsync(QueryTypes.Extract, "fake-small", 0.99, 3);
        var parsed = PolicyParser.Parse("""
            policies:
              - id: econ_goes_local
                condition:
                  - model.tier: econ
                action: route
                tier: local
            """);
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Errors.Select(e => e.Message)));
        var context = Call("Extract the invoice number from: INV-8", new SavingsSettings(Routing: true), premiumShare: null, policies: new CompiledPolicySet(1, parsed.Document!, "h"));

        Assert.True(await RunAsync(Step(), context));

        Assert.Equal("premium", context.Tier);
        Assert.Null(context.Saving);
        Assert.Contains("fake-small [econ] score 0.99 n=", context.RouteReason);
        Assert.Contains("policy routes it to local", context.RouteReason);
    }

    [Fact]
    public async Task Every_call_gets_its_query_type_but_an_app_without_savings_is_not_routed_and_the_shadow_evaluator_sees_it_after_the_call()
    {
        var shadow = new CountingShadow();
        var step = Step(shadow);
        var context = Call("Summarise this report in one sentence.", null, premiumShare: null);
        var shadowSeenBeforeNext = -1;

        await step.InvokeAsync(context, _ => { shadowSeenBeforeNext = shadow.Seen.Count; return ValueTask.CompletedTask; });

        Assert.Equal(QueryTypes.Summarise, context.QueryType);
        Assert.Equal("premium", context.Tier);
        Assert.Null(context.RouteReason);
        Assert.Equal(0, shadowSeenBeforeNext);
        Assert.Same(context, Assert.Single(shadow.Seen));
    }

    [Fact]
    public async Task A_sampling_app_calling_a_tier_sampling_does_not_cover_is_left_alone_without_a_reason()
    {
        var econ = Catalog.ModelsOf("econ")[0];
        var context = Call("Hello", null, premiumShare: 0.0);
        context.Tier = "econ";
        context.Selection = "tier:econ";
        context.Candidates = [econ];
        context.BaselineModel = econ;

        Assert.True(await RunAsync(Step(minEvidence: 1), context));

        Assert.Equal("econ", context.Tier);
        Assert.Equal([econ], context.Candidates);
        Assert.Null(context.Saving);
        Assert.Null(context.RouteReason);
        Assert.DoesNotContain(context.Decisions, d => d.StartsWith("savings:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pinned_model_is_neither_routed_nor_sampled()
    {
        var context = Call("Hello", new SavingsSettings(Routing: true), premiumShare: 0.0, selection: "fake-steady");

        Assert.True(await RunAsync(Step(minEvidence: 1), context));

        Assert.Equal("premium", context.Tier);
        Assert.Null(context.Saving);
        Assert.Contains("pinned model 'fake-steady'", context.RouteReason);
    }
}
