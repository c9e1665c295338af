using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Cost;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.GrainTests.Catalog;

/// <summary>
/// Usage, reuse and retirement through the cluster, from synthetic trace events in the shared store. Usage and reuse use
/// UTC days of their own in 2024 (no other test writes there), so the calls in those windows are only this test's.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CatalogUsageGrainTests(ClusterFixture fixture)
{
    private static int _days;

    private static DateTimeOffset FreshDay() => new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(Interlocked.Increment(ref _days));

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private static AppManifest Manifest(CatalogRef? template = null, CatalogRef[]? components = null) =>
        new("Catalog usage app", "owner", "catalog", Audience.Internal, [], ["standard"], "standard", AppQuotas.Default, "", "v1",
            Template: template, Components: components);

    private static TraceEvent Call(string app, DateTimeOffset at, decimal cost = 0.01m) =>
        new(app, Guid.NewGuid().ToString("N"), "fake-small", "standard", 10, 5, 12.5, "v1", cost, "standard:fake-small",
            TraceOutcomes.Success, null, "catalog", "hash", false, cost, at, []);

    private async Task<IMicroAppGrain> AppAsync(string appId, AppManifest manifest)
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(manifest);
        await fixture.Grains.GetGrain<IAppRegistryGrain>(0).RegisterAsync(appId);
        return app;
    }

    [Fact]
    public async Task Usage_counts_apps_per_component_with_their_calls_and_the_reuse_rate_feeds_the_kpis()
    {
        var prompt = $"usage-{Guid.NewGuid():N}"[..20];
        await fixture.Grains.GetGrain<ICatalogGrain>("default").PublishAsync(new CatalogEntry(
            CatalogKind.Prompt, prompt, "1.0.0", "team", "Shared.", [], false, false, [], "Be brief.", [], ClusterFixture.Time.GetUtcNow(), "approver"));
        var (onCatalog, onTemplate, plain) = (NewId("cat-a"), NewId("cat-b"), NewId("cat-c"));
        await AppAsync(onCatalog, Manifest(components: [new CatalogRef(prompt, "1.0.0")]));
        await AppAsync(onTemplate, Manifest(template: new CatalogRef(BuiltIns.Summarizer, "1.0.0")));
        await AppAsync(plain, Manifest());
        var day = FreshDay();
        await ClusterFixture.Traces.AppendAsync(
        [
            Call(onCatalog, day.AddHours(1)), Call(onCatalog, day.AddHours(2)),
            Call(onTemplate, day.AddHours(3)),
            Call(plain, day.AddHours(4)), Call(plain, day.AddHours(5)), Call(plain, day.AddHours(6)), Call(plain, day.AddHours(7)),
        ], []);

        var report = await fixture.Grains.GetGrain<ICatalogUsageGrain>(0).UsageAsync(day, day.AddDays(1));

        Assert.Equal(new CatalogEntryUsage(CatalogKind.Prompt, prompt, "1.0.0", 1, 2), Assert.Single(report.ByVersion, u => u.Name == prompt));
        Assert.Equal(new CatalogEntryUsage(CatalogKind.Prompt, prompt, null, 1, 2), Assert.Single(report.ByName, u => u.Name == prompt));
        var summarizer = Assert.Single(report.ByVersion, u => u.Name == BuiltIns.Summarizer);
        Assert.True(summarizer.Apps >= 1);
        Assert.Equal(1, summarizer.Calls);

        // Only this test's apps called on this day: 3 of 7 calls came from apps built on the catalog.
        Assert.Equal((7L, 3L, 0.428571), (report.Reuse.Calls, report.Reuse.CallsOnCatalog, report.Reuse.CallsShare!.Value));
        Assert.True(report.Reuse.AppsOnCatalog >= 2 && report.Reuse.AppsOnCatalog < report.Reuse.Apps);

        var kpis = await fixture.Grains.GetGrain<ICostDashboardGrain>(0).GetKpisAsync(day, day.AddDays(1));
        Assert.Equal(report.Reuse.AppsShare, kpis.ReuseRate.Value);
        Assert.Equal(0.428571, kpis.ReuseRate.CallsShare);
        Assert.Equal((7L, 3L), (kpis.ReuseRate.Calls, kpis.ReuseRate.CallsOnCatalog));
        Assert.Null(kpis.ReuseRate.Reason);
        Assert.NotNull(kpis.ReuseRate.Definition);
    }

    [Fact]
    public async Task Retirement_lists_a_little_used_costly_app_but_not_a_cheap_busy_or_retired_one()
    {
        // Any live roll-up another test left cached at this instant is stale after this.
        ClusterFixture.Time.Advance(new CostOptions().LiveCacheFor);
        var now = ClusterFixture.Time.GetUtcNow();
        var (costly, cheap, busy, retired) = (NewId("ret-costly"), NewId("ret-cheap"), NewId("ret-busy"), NewId("ret-gone"));
        await AppAsync(costly, Manifest());
        await AppAsync(cheap, Manifest());
        await AppAsync(busy, Manifest());
        var gone = await AppAsync(retired, Manifest());
        await gone.SetLifecycleAsync(AppLifecycle.Retired);
        await ClusterFixture.Traces.AppendAsync(
        [
            Call(costly, now, cost: 2.5m),
            Call(cheap, now, cost: 0.1m),
            Call(busy, now, cost: 1m), Call(busy, now, cost: 1m), Call(busy, now, cost: 1m),
            Call(retired, now, cost: 9m),
        ], []);

        var report = await fixture.Grains.GetGrain<ICatalogUsageGrain>(0).RetirementAsync(new RetirementCriteria(1, 2, 1m));

        var candidate = Assert.Single(report.Candidates, c => c.AppId == costly);
        Assert.Equal((1L, 2.5m), (candidate.Calls, candidate.CostUsd));
        Assert.DoesNotContain(report.Candidates, c => c.AppId == cheap || c.AppId == busy || c.AppId == retired);
        Assert.Equal(new RetirementCriteria(1, 2, 1m), report.Criteria);
        Assert.Equal(new RetirementCriteria(30, 1, 1m), await fixture.Grains.GetGrain<ICatalogUsageGrain>(0).DefaultRetirementCriteriaAsync());
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Grains.GetGrain<ICatalogUsageGrain>(0).RetirementAsync(new RetirementCriteria(0, 1, 1m)));
    }

    [Fact]
    public async Task Retiring_an_app_revokes_every_key_and_a_call_with_one_is_refused_as_retired()
    {
        var app = await AppAsync(NewId("ret-keys"), Manifest());
        var prod = await app.IssueKeyAsync("prod");
        await app.IssueKeyAsync("second");

        var retired = await app.SetLifecycleAsync(AppLifecycle.Retired);

        Assert.Equal(2, retired.Keys.Count);
        Assert.All(retired.Keys, k => Assert.NotNull(k.RevokedAt));
        Assert.True(ApiKeys.TryParse(prod.ApiKey, out _, out var keyId, out var secret));
        var refused = await app.AdmitAsync(new AdmissionRequest(keyId, secret, 10));
        Assert.False(refused.IsAdmitted);
        Assert.Contains("retired", refused.Message);
    }

    [Fact]
    public async Task A_closed_budget_reserves_nothing_more_but_settles_what_was_in_flight()
    {
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"app:{NewId("closed")}");
        await budget.ConfigureAsync(new BudgetSettings(10m, BudgetPeriod.Month));
        Assert.True((await budget.ReserveAsync("in-flight", 1m)).IsGranted);

        var closed = await budget.CloseAsync("app retired");
        var again = await budget.CloseAsync("app retired");

        Assert.False(closed.Configured);
        Assert.Equal(0m, closed.LimitUsd);
        Assert.NotNull(closed.ClosedAt);
        Assert.Equal(closed.ClosedAt, again.ClosedAt);
        Assert.Equal(ReservationOutcome.NotConfigured, (await budget.ReserveAsync("after", 0m)).Outcome);
        var settled = await budget.SettleAsync("in-flight", 0.4m);
        Assert.Equal(SettleOutcome.Settled, settled.Outcome);
        Assert.Equal(0.4m, settled.Budget.SpentUsd);

        var reopened = await budget.ConfigureAsync(new BudgetSettings(5m, BudgetPeriod.Month));
        Assert.True(reopened.Configured);
        Assert.Null(reopened.ClosedAt);
    }
}
