using MicroApps.Orleans.Cost;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Tiers;

namespace MicroApps.Orleans.UnitTests.Cost;

public sealed class CostRollupTests
{
    private static readonly ModelCatalog Catalog = new(new ModelCatalogOptions
    {
        Tiers = new(StringComparer.OrdinalIgnoreCase)
        {
            ["standard"] = new ModelTierOptions { Models = [new ModelOptions { Name = "small", Backend = "b", InputPricePer1K = 0.15m, OutputPricePer1K = 0.6m }] },
        },
    });

    private static TraceEvent Event(string outcome, string model = "small", int tokensIn = 0, int tokensOut = 0, decimal cost = 0m, bool cacheHit = false, string app = "app") =>
        new(app, Guid.NewGuid().ToString("N"), model, "standard", tokensIn, tokensOut, 1, "v1", cost, "r", outcome, null, "team", "h", cacheHit, cost,
            new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), []);

    [Theory]
    [InlineData("success", false, "success")]
    [InlineData("cache_hit", true, "cache_hit")]
    [InlineData("Completed", false, "success")]
    [InlineData("Completed", true, "cache_hit")]
    [InlineData("CacheHit", true, "cache_hit")]
    [InlineData("Forbidden", false, "blocked")]
    [InlineData("BudgetExceeded", false, "throttled")]
    [InlineData("UnknownModel", false, "invalid")]
    [InlineData("BackendFailed", false, "error")]
    [InlineData("Cancelled", false, "error")]
    [InlineData("7", false, "error")]
    public void Outcomes_written_before_trace_outcomes_map_to_the_trace_outcome(string outcome, bool cacheHit, string expected) =>
        Assert.Equal(expected, CostRollup.OutcomeOf(Event(outcome, cacheHit: cacheHit)));

    [Fact]
    public void A_cache_hit_saves_its_tokens_at_the_serving_models_catalog_price()
    {
        // 1234 × 0.15 / 1000 + 567 × 0.6 / 1000 = 0.1851 + 0.3402
        Assert.Equal(0.5253m, CostRollup.CacheSaving(Event(TraceOutcomes.CacheHit, tokensIn: 1234, tokensOut: 567), Catalog));
        Assert.Equal(0.00015m, CostRollup.CacheSaving(Event(TraceOutcomes.CacheHit, tokensIn: 1), Catalog));
    }

    [Fact]
    public void A_cache_hit_on_an_unknown_model_or_without_token_counts_is_unpriced()
    {
        Assert.Null(CostRollup.CacheSaving(Event(TraceOutcomes.CacheHit, model: "gone", tokensIn: 10, tokensOut: 10), Catalog));
        Assert.Null(CostRollup.CacheSaving(Event(TraceOutcomes.CacheHit, model: "standard", tokensIn: 10, tokensOut: 10), Catalog)); // a tier, not a model
        Assert.Null(CostRollup.CacheSaving(Event(TraceOutcomes.CacheHit), Catalog));
    }

    [Fact]
    public void The_same_events_in_any_order_give_the_same_cells()
    {
        var events = new[]
        {
            Event(TraceOutcomes.Success, cost: 0.1m, tokensIn: 10, tokensOut: 1, app: "b"),
            Event(TraceOutcomes.Success, cost: 0.2m, tokensIn: 20, tokensOut: 2, app: "a"),
            Event(TraceOutcomes.CacheHit, tokensIn: 1000, tokensOut: 1000, cacheHit: true, app: "a"),
            Event(TraceOutcomes.Error, app: "a"),
            Event(TraceOutcomes.CacheHit, model: "gone", tokensIn: 5, cacheHit: true, app: "b"),
        };

        var forward = CostRollup.Aggregate(events, Catalog);
        var backward = CostRollup.Aggregate(events.Reverse(), Catalog);

        Assert.Equal(forward, backward);
        Assert.Equal(["a", "b", "b"], forward.Select(c => c.AppId));
        var a = forward[0].Totals;
        Assert.Equal((3L, 1L, 1L, 1L, 20L, 2L, 0.2m, 0.75m, 0L), (a.Requests, a.Success, a.CacheHits, a.Errors, a.TokensIn, a.TokensOut, a.CostUsd, a.CacheSavedUsd, a.UnpricedCacheHits));
        Assert.Equal(1, forward.Where(c => c.AppId == "b").Sum(c => c.Totals.UnpricedCacheHits));
    }

    [Fact]
    public void An_incident_needs_both_enough_blocked_or_errored_calls_and_enough_of_the_apps_calls()
    {
        var hour = new DateTimeOffset(2026, 1, 1, 3, 0, 0, TimeSpan.Zero);
        var cells = CostRollup.Aggregate(
            [
                .. Enumerable.Repeat(0, 5).Select(_ => Event(TraceOutcomes.Blocked, app: "half")),
                .. Enumerable.Repeat(0, 5).Select(_ => Event(TraceOutcomes.Success, app: "half")),
                .. Enumerable.Repeat(0, 5).Select(_ => Event(TraceOutcomes.Blocked, app: "under")),
                .. Enumerable.Repeat(0, 6).Select(_ => Event(TraceOutcomes.Success, app: "under")),
                .. Enumerable.Repeat(0, 4).Select(_ => Event(TraceOutcomes.Error, app: "few")),
            ],
            Catalog);

        var incidents = CostRollup.Incidents(hour, cells, minEvents: 5, minShare: 0.5).ToList();

        Assert.Equal([("half", 5L, 10L)], incidents.Select(i => (i.AppId, i.BlockedOrErrored, i.Calls)));
        Assert.Equal(2, CostRollup.Incidents(hour, cells, minEvents: 4, minShare: 0.5).Count());
    }

    [Theory]
    [InlineData("RollupGrace", "-00:00:01")]
    [InlineData("LiveCacheFor", "00:11:00")]
    [InlineData("IncidentMinEvents", "0")]
    [InlineData("IncidentMinShare", "0")]
    [InlineData("IncidentMinShare", "1.5")]
    [InlineData("ScanParallelism", "0")]
    public void Nonsense_cost_settings_are_refused_naming_the_setting(string setting, string value)
    {
        var options = new CostOptions();
        var property = typeof(CostOptions).GetProperty(setting)!;
        property.SetValue(options, property.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : Convert.ChangeType(value, property.PropertyType, System.Globalization.CultureInfo.InvariantCulture));

        var result = new CostOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"Telemetry:Cost:{setting}", result.FailureMessage);
        Assert.True(new CostOptionsValidator().Validate(null, new CostOptions()).Succeeded);
    }
}
