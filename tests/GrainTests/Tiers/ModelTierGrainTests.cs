using MicroApps.Orleans.Tiers;

namespace MicroApps.Orleans.GrainTests.Tiers;

[Collection(ClusterCollection.Name)]
public sealed class ModelTierGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_tier_routes_its_configured_models_in_order_with_prices()
    {
        var route = await fixture.Grains.GetGrain<IModelTierGrain>("standard").GetRouteAsync();

        Assert.Equal("standard", route.Tier);
        Assert.Equal(["fake-small", "fake-large"], route.Candidates.Select(c => c.Name));
        Assert.Equal(4m, route.Candidates[1].OutputPricePer1K);
    }

    [Fact]
    public async Task An_unknown_tier_has_an_empty_route()
    {
        var route = await fixture.Grains.GetGrain<IModelTierGrain>("no-such-tier").GetRouteAsync();

        Assert.Empty(route.Candidates);
    }

    [Fact]
    public async Task A_model_that_keeps_failing_is_moved_last_until_its_cool_down_passes()
    {
        var tier = fixture.Grains.GetGrain<IModelTierGrain>("breaker");
        for (var i = 0; i < 3; i++)
        {
            await tier.ReportOutcomeAsync("fake-breaker-a", false, 5);
        }

        await Eventually.TrueAsync(async () => (await tier.GetRouteAsync()).Candidates[0].Name == "fake-breaker-b", "the breaker to open");
        var open = (await tier.GetRouteAsync()).Health.Single(h => h.Model == "fake-breaker-a");
        Assert.False(open.Available);
        Assert.NotNull(open.OpenUntil);

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(30));

        var route = await tier.GetRouteAsync();
        Assert.Equal(["fake-breaker-a", "fake-breaker-b"], route.Candidates.Select(c => c.Name));
        Assert.True(route.Health.Single(h => h.Model == "fake-breaker-a").Available);
    }
}
