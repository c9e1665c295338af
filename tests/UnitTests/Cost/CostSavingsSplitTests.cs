using MicroApps.Orleans.Cost;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Savings;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace MicroApps.Orleans.UnitTests.Cost;

/// <summary>The savings split of the cost roll-ups: baseline, saved USD per saving kind, overspend.</summary>
public sealed class CostSavingsSplitTests
{
    private static readonly ModelCatalog Catalog = new(new ModelCatalogOptions
    {
        Tiers = new(StringComparer.OrdinalIgnoreCase)
        {
            ["premium"] = new ModelTierOptions { Models = [new ModelOptions { Name = "big", Backend = "b", InputPricePer1K = 5m, OutputPricePer1K = 15m }] },
        },
    });

    private static TraceEvent Event(string outcome, decimal actual, decimal? baseline, string? saving, string app = "app") =>
        new(app, Guid.NewGuid().ToString("N"), "big", "premium", 10, 10, 1, "v1", actual, "r", outcome, null, "team", "h",
            outcome == TraceOutcomes.CacheHit, actual, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), [],
            BaselineCostUsd: baseline, Saving: saving);

    [Fact]
    public void Each_call_saves_its_baseline_above_its_actual_cost_under_its_saving_kind()
    {
        var totals = CostRollup.Aggregate(
            [
                Event(TraceOutcomes.CacheHit, 0m, 0.2m, SavingKinds.Cache),
                Event(TraceOutcomes.CacheHit, 0m, 0.3m, SavingKinds.NearDuplicate),
                Event(TraceOutcomes.Success, 0.01m, 0.2m, SavingKinds.Routing),
                Event(TraceOutcomes.Success, 0.02m, 0.2m, SavingKinds.Sampling),
                Event(TraceOutcomes.Success, 0.2m, 0.2m, SavingKinds.None),
                Event(TraceOutcomes.Success, 0.05m, 0.1m, null), // cheaper without a kind: other
            ],
            Catalog).Single().Totals;

        Assert.Equal(0.2m, totals.SavedCacheUsd);
        Assert.Equal(0.3m, totals.SavedNearDuplicateUsd);
        Assert.Equal(0.19m, totals.SavedRoutingUsd);
        Assert.Equal(0.18m, totals.SavedSamplingUsd);
        Assert.Equal(0.05m, totals.SavedOtherUsd);
        Assert.Equal(0.92m, totals.SavedUsd);
        Assert.Equal(1.2m, totals.BaselineUsd);
        Assert.Equal(0.28m, totals.CostUsd);
        Assert.Equal(0m, totals.OverBaselineUsd);
    }

    [Fact]
    public void A_call_dearer_than_its_baseline_saves_nothing_and_counts_as_over_baseline()
    {
        var (baseline, saved, over) = CostRollup.BaselineOf(Event(TraceOutcomes.Success, 0.5m, 0.2m, SavingKinds.Routing));

        Assert.Equal((0.2m, 0m, 0.3m), (baseline, saved, over));
    }

    [Fact]
    public void A_call_without_a_baseline_counts_its_actual_cost_as_baseline_and_saves_nothing()
    {
        var totals = CostRollup.Aggregate([Event(TraceOutcomes.Success, 0.4m, null, null), Event(TraceOutcomes.Blocked, 0m, null, null)], Catalog).Single().Totals;

        Assert.Equal((0.4m, 0m, 0m), (totals.BaselineUsd, totals.SavedUsd, totals.OverBaselineUsd));
    }

    [Fact]
    public void Baseline_equals_spend_plus_saved_minus_over_baseline_after_adding_cells()
    {
        var a = CostRollup.Aggregate([Event(TraceOutcomes.Success, 0.01m, 0.2m, SavingKinds.Routing), Event(TraceOutcomes.Success, 0.5m, 0.2m, SavingKinds.None)], Catalog).Single().Totals;
        var b = CostRollup.Aggregate([Event(TraceOutcomes.CacheHit, 0m, 0.3m, SavingKinds.Cache, app: "b")], Catalog).Single().Totals;

        var sum = a.Add(b);

        Assert.Equal(0.7m, sum.BaselineUsd);
        Assert.Equal(0.49m, sum.SavedUsd);
        Assert.Equal(0.3m, sum.OverBaselineUsd);
        Assert.Equal(sum.BaselineUsd, sum.CostUsd + sum.SavedUsd - sum.OverBaselineUsd);
        Assert.Equal((0.3m, 0.19m), (sum.SavedCacheUsd, sum.SavedRoutingUsd));
    }

    [Fact]
    public void The_split_reports_the_saved_share_of_the_baseline_and_each_kind()
    {
        var totals = CostTotals.Zero.Add(new CostTotals(4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0.25m, 0m, 0, BaselineUsd: 1m, SavedCacheUsd: 0.5m, SavedRoutingUsd: 0.25m));

        var split = SavingsSplit.Of(totals, "m");

        Assert.Equal((1m, 0.25m, 0.75m, 0.75d), (split.BaselineUsd, split.SpentUsd, split.SavedUsd, split.SavedShare));
        Assert.Equal(new SavingsByKind(0.5m, 0m, 0.25m, 0m, 0m), split.ByKind);
        Assert.Equal(0d, SavingsSplit.Of(CostTotals.Zero, "m").SavedShare);
    }

    [Fact]
    public void Totals_stored_before_the_split_existed_read_with_zero_savings()
    {
        // The bytes an hour roll-up stored before the split: today's encoding of the same figures without the trailing
        // fields 13-19 (seven decimal fields of 18 bytes each: field header 0x41, decimal marker 0x21, 16 bytes of zeros).
        using var services = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(CostTotals).Assembly)).BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer<CostTotals>>();
        var current = serializer.SerializeToArray(new CostTotals(7, 5, 2, 0, 0, 0, 0, 0, 1200, 300, 0.42m, 0.1m, 1));
        const int NewFieldBytes = 7 * 18;
        var tail = current.AsSpan(current.Length - 1 - NewFieldBytes, NewFieldBytes).ToArray();
        Assert.Equal(string.Concat(Enumerable.Repeat("4121" + new string('0', 32), 7)), Convert.ToHexString(tail));
        byte[] stored = [.. current.AsSpan(0, current.Length - 1 - NewFieldBytes), current[^1]];

        var old = serializer.Deserialize(stored)!;

        Assert.Equal((7L, 2L, 1200L, 0.42m, 0.1m, 1L), (old.Requests, old.CacheHits, old.TokensIn, old.CostUsd, old.CacheSavedUsd, old.UnpricedCacheHits));
        Assert.Equal((0m, 0m, 0m, 0m), (old.BaselineUsd, old.SavedUsd, old.SavedCacheUsd, old.OverBaselineUsd));
        Assert.Equal(0.42m, old.Add(CostTotals.Zero).CostUsd);
    }
}
