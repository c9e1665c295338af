using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.Configuration;

namespace MicroApps.Orleans.UnitTests.Policies;

public sealed class PolicyStepFactsTests
{
    private static readonly ModelCatalog Catalog = CreateCatalog();

    private static ModelCatalog CreateCatalog()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Models:Tiers:standard:Models:0:Name"] = "cheap-external",
            ["Models:Tiers:standard:Models:0:Backend"] = "x",
            ["Models:Tiers:standard:Models:0:InputPricePer1K"] = "1",
            ["Models:Tiers:standard:Models:0:OutputPricePer1K"] = "2",
            ["Models:Tiers:standard:Models:0:ContextWindow"] = "8000",
            ["Models:Tiers:standard:Models:0:External"] = "false",
            ["Models:Tiers:standard:Models:1:Name"] = "dear-external",
            ["Models:Tiers:standard:Models:1:Backend"] = "x",
            ["Models:Tiers:standard:Models:1:InputPricePer1K"] = "3",
            ["Models:Tiers:standard:Models:1:OutputPricePer1K"] = "4",
            ["Models:Tiers:standard:Models:1:ContextWindow"] = "8000",
            ["Models:Tiers:standard:Models:1:External"] = "true",
        };
        var options = new ModelCatalogOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(ModelCatalogOptions.Section).Bind(options);
        options.ApplyDefaults();
        return new ModelCatalog(options);
    }

    private static readonly AppProfile App = new("app-1", "finance", Audience.External, ["phone"], ["standard"], "standard", "app:app-1", "v7");

    [Fact]
    public void Facts_resolve_the_tier_flag_external_candidates_and_price_at_the_dearest_model()
    {
        var facts = PolicyStep.FactsOf(App, "auto", ["email"], 1000, 500, "user-9", Catalog);

        Assert.Equal(("app-1", "finance", "external", "v7"), (facts.AppId, facts.Team, facts.Audience, facts.PromptVersion));
        Assert.Equal(["phone"], facts.DeclaredDataClasses);
        Assert.Equal(["email"], facts.RequestPii);
        Assert.Equal("standard", facts.ModelTier);
        Assert.True(facts.ModelExternal);
        Assert.Equal(1500, facts.TokensEstimate);
        Assert.Equal(3m * 1 + 4m * 0.5m, facts.CostEstimateUsd);
        Assert.Equal("user-9", facts.StickyKey);
    }

    [Fact]
    public void A_pinned_model_is_judged_by_that_model_alone()
    {
        var facts = PolicyStep.FactsOf(App, "cheap-external", [], 1000, 1000, null, Catalog);

        Assert.Equal("standard", facts.ModelTier);
        Assert.False(facts.ModelExternal);
        Assert.Equal(3m, facts.CostEstimateUsd);
    }

    [Fact]
    public void A_model_that_resolves_to_nothing_leaves_the_model_facts_unavailable()
    {
        var facts = PolicyStep.FactsOf(App, "no-such-model", [], 10, 10, null, Catalog);

        Assert.Null(facts.ModelTier);
        Assert.Null(facts.ModelExternal);
        Assert.Null(facts.CostEstimateUsd);
    }

    [Fact]
    public void With_no_policy_set_published_every_call_is_allowed_by_default_without_quotas()
    {
        var decision = CompiledPolicySet.None.Evaluate(PolicyStep.FactsOf(App, "standard", ["email"], 10, 10, "k", Catalog));

        Assert.Equal((0, false, "allow:default"), (decision.PolicyVersion, decision.Blocked, decision.Summary));
        Assert.Null(CompiledPolicySet.None.QuotasFor("app-1"));
    }

    [Theory]
    [InlineData("00:00:00", true)]
    [InlineData("00:00:01", true)]
    [InlineData("01:00:00", true)]
    [InlineData("-00:00:01", false)]
    [InlineData("01:00:01", false)]
    public void The_refresh_interval_is_validated_at_start(string interval, bool valid)
    {
        var result = new PolicyOptionsValidator().Validate(null, new PolicyOptions { RefreshInterval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture) });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Policies:RefreshInterval", result.FailureMessage);
        }
    }

    [Fact]
    public void A_stored_version_compiles_once_and_keeps_its_version_and_hash()
    {
        var stored = new PolicySetVersion(4, PolicyTestData.IssueExample, "admin", "", DateTimeOffset.UnixEpoch, PolicySetGrain.ContentHash(PolicyTestData.IssueExample));

        var compiled = CompiledPolicySet.Compile(stored);

        Assert.Equal((4, stored.ContentHash), (compiled.Version, compiled.ContentHash));
        Assert.Equal(new PolicyQuotas(new AppQuotas(30, 100_000), false), compiled.QuotasFor("any"));
        Assert.Equal(PolicySetGrain.ContentHash(PolicyTestData.IssueExample.Replace("\n", "\r\n", StringComparison.Ordinal)), stored.ContentHash);
    }
}
