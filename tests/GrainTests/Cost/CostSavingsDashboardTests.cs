using MicroApps.Orleans.Cost;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Savings;

namespace MicroApps.Orleans.GrainTests.Cost;

/// <summary>
/// The dashboard summary's savings split over synthetic trace events in the shared in-memory store. Days of their own
/// in 2024 (other cost tests use 2025), long closed on the fake clock, so the figures come from stored hour roll-ups.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CostSavingsDashboardTests(ClusterFixture fixture)
{
    private static int _days;

    private ICostDashboardGrain Dashboard => fixture.Grains.GetGrain<ICostDashboardGrain>(0);

    private static TraceEvent Event(string app, string tier, DateTimeOffset at, string outcome, decimal actual, decimal? baseline, string? saving) =>
        new(app, Guid.NewGuid().ToString("N"), "fake-small", tier, 100, 10, 3, "v1", actual, tier, outcome, null, "team-save", "hash",
            outcome == TraceOutcomes.CacheHit, actual, at, [], QueryType: QueryTypes.Summarise, BaselineCostUsd: baseline, Saving: saving);

    [Fact]
    public async Task Summary_splits_the_saving_against_the_baseline_by_kind_across_apps_and_hours()
    {
        var day = new DateTimeOffset(2024, 3, 1, 0, 0, 0, TimeSpan.Zero).AddDays(Interlocked.Increment(ref _days));
        var (a, b) = ($"save-a-{Guid.NewGuid():N}"[..20], $"save-b-{Guid.NewGuid():N}"[..20]);
        await ClusterFixture.Traces.AppendAsync(
            [
                Event(a, "premium", day.AddHours(1), TraceOutcomes.Success, 0.4m, 0.4m, SavingKinds.None),
                Event(a, "premium", day.AddHours(1), TraceOutcomes.CacheHit, 0m, 0.4m, SavingKinds.Cache),
                Event(a, "standard", day.AddHours(2), TraceOutcomes.Success, 0.04m, 0.4m, SavingKinds.Routing),
                Event(b, "premium", day.AddHours(2), TraceOutcomes.CacheHit, 0m, 0.2m, SavingKinds.NearDuplicate),
                Event(b, "standard", day.AddHours(5), TraceOutcomes.Success, 0.02m, 0.2m, SavingKinds.Sampling),
                Event(b, "premium", day.AddHours(5), TraceOutcomes.Throttled, 0m, null, null),
            ],
            []);

        var summary = await Dashboard.GetSummaryAsync(day, day.AddDays(1), top: 10);

        var savings = summary.Savings!;
        Assert.Equal(new SavingsByKind(0.4m, 0.2m, 0.36m, 0.18m, 0m), savings.ByKind);
        Assert.Equal(1.14m, savings.SavedUsd);
        Assert.Equal(1.6m, savings.BaselineUsd);
        Assert.Equal(0.46m, savings.SpentUsd);
        Assert.Equal(summary.Total.CostUsd, savings.SpentUsd);
        Assert.Equal(Math.Round(1.14d / 1.6d, 6), savings.SavedShare);
        Assert.Equal(0m, savings.OverBaselineUsd);
        Assert.Contains("BaselineCostUsd", savings.Method);

        // The same figures per app from the spend series (stored hour roll-ups carry the split).
        var byApp = await Dashboard.GetSpendAsync(day, day.AddDays(1), CostGranularity.Hour, CostDimension.App);
        var bTotal = byApp.Groups.Single(g => g.Key == b).Total;
        Assert.Equal((0.2m, 0.18m, 0.4m), (bTotal.SavedNearDuplicateUsd, bTotal.SavedSamplingUsd, bTotal.BaselineUsd));
        Assert.Equal(24, byApp.ClosedHours);
    }
}
