using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Cost;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.GrainTests.Cost;

/// <summary>
/// The cost roll-ups and dashboard over synthetic trace events in the shared in-memory store. Every test writes into
/// UTC days of its own in 2025 (long closed on the fake clock, and no other test writes there), or into the current
/// hour with app ids of its own, so the shared store and roll-ups never mix tests' figures.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CostDashboardTests(ClusterFixture fixture)
{
    private static int _days;

    private ICostDashboardGrain Dashboard => fixture.Grains.GetGrain<ICostDashboardGrain>(0);

    /// <summary>A fresh UTC day in 2025 whose next day is in the same month (so a two-day range is one month bucket).</summary>
    private static DateTimeOffset FreshDay()
    {
        while (true)
        {
            var day = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(2 * Interlocked.Increment(ref _days));
            if (day.AddDays(1).Month == day.Month)
            {
                return day;
            }
        }
    }

    private static string NewAppId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private static TraceEvent Event(
        string app, string team, string tier, string model, DateTimeOffset at, string outcome = TraceOutcomes.Success,
        decimal cost = 0m, int tokensIn = 0, int tokensOut = 0) =>
        new(app, Guid.NewGuid().ToString("N"), model, tier, tokensIn, tokensOut, 12.5, "v1", cost,
            outcome == TraceOutcomes.CacheHit ? "cache" : $"{tier}:{model}", outcome, null, team, "hash",
            outcome is TraceOutcomes.CacheHit or "CacheHit", cost, at, []);

    private static Task AppendAsync(params TraceEvent[] events) => ClusterFixture.Traces.AppendAsync(events, []);

    private static CostTotals GroupTotal(SpendSeries series, string key) =>
        series.Groups.Single(g => g.Key == key).Total;

    [Fact]
    public async Task Spend_sums_by_app_team_tier_and_model_per_hour_day_and_month_are_exact()
    {
        var day = FreshDay();
        var (a, b) = (NewAppId("cost-a"), NewAppId("cost-b"));
        await AppendAsync(
            Event(a, "team-red", "standard", "fake-small", day.AddHours(1).AddMinutes(10), cost: 0.01000001m, tokensIn: 100, tokensOut: 50),
            Event(a, "team-red", "standard", "fake-large", day.AddHours(1).AddMinutes(20), cost: 0.02m, tokensIn: 200, tokensOut: 10),
            Event(a, "team-red", "local", "local-extractive-summarizer", day.AddHours(3), tokensIn: 40, tokensOut: 4),
            Event(b, "team-blue", "standard", "fake-small", day.AddHours(1).AddMinutes(30), cost: 0.03m, tokensIn: 300, tokensOut: 30),
            Event(b, "team-blue", "standard", "fake-small", day.AddDays(1).AddHours(2), cost: 0.04m, tokensIn: 400, tokensOut: 40));
        var (from, to) = (day, day.AddDays(2));

        var byApp = await Dashboard.GetSpendAsync(from, to, CostGranularity.Day, CostDimension.App);
        Assert.Equal(0.03000001m, GroupTotal(byApp, a).CostUsd);
        Assert.Equal(3, GroupTotal(byApp, a).Requests);
        Assert.Equal(340, GroupTotal(byApp, a).TokensIn);
        Assert.Equal(64, GroupTotal(byApp, a).TokensOut);
        Assert.Equal(0.07m, GroupTotal(byApp, b).CostUsd);
        Assert.Equal([(day, 0.03m), (day.AddDays(1), 0.04m)], byApp.Groups.Single(g => g.Key == b).Series.Select(p => (p.Start, p.Totals.CostUsd)));
        Assert.Equal([day, day.AddDays(1)], byApp.Buckets);
        Assert.Equal(0.10000001m, byApp.Total.CostUsd);
        Assert.Equal(b, byApp.Groups[0].Key); // highest spend first
        Assert.Equal(48, byApp.ClosedHours);
        Assert.Equal(0, byApp.LiveHours);

        var byTeam = await Dashboard.GetSpendAsync(from, to, CostGranularity.Day, CostDimension.Team);
        Assert.Equal(0.03000001m, GroupTotal(byTeam, "team-red").CostUsd);
        Assert.Equal(0.07m, GroupTotal(byTeam, "team-blue").CostUsd);

        var byTierHourly = await Dashboard.GetSpendAsync(from, to, CostGranularity.Hour, CostDimension.Tier);
        Assert.Equal(48, byTierHourly.Buckets.Count);
        Assert.Equal(
            [(day.AddHours(1), 0.06000001m, 3L), (day.AddDays(1).AddHours(2), 0.04m, 1L)],
            byTierHourly.Groups.Single(g => g.Key == "standard").Series.Select(p => (p.Start, p.Totals.CostUsd, p.Totals.Requests)));
        Assert.Equal(0.10000001m, GroupTotal(byTierHourly, "standard").CostUsd);
        Assert.Equal(1, GroupTotal(byTierHourly, "local").Requests);
        Assert.Equal(0m, GroupTotal(byTierHourly, "local").CostUsd);

        var byModelMonthly = await Dashboard.GetSpendAsync(from, to, CostGranularity.Month, CostDimension.Model);
        var month = new DateTimeOffset(day.Year, day.Month, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal([month], byModelMonthly.Buckets);
        Assert.Equal([(month, 0.08000001m)], byModelMonthly.Groups.Single(g => g.Key == "fake-small").Series.Select(p => (p.Start, p.Totals.CostUsd)));
        Assert.Equal(0.02m, GroupTotal(byModelMonthly, "fake-large").CostUsd);
        Assert.Equal(3, byModelMonthly.Groups.Count);

        // A range that starts mid-hour covers that whole hour and nothing before it.
        var oneHour = await Dashboard.GetSpendAsync(day.AddHours(1).AddMinutes(15), day.AddHours(1).AddMinutes(16), CostGranularity.Hour, CostDimension.App);
        Assert.Equal((day.AddHours(1), day.AddHours(2)), (oneHour.From, oneHour.To));
        Assert.Equal(0.06000001m, oneHour.Total.CostUsd);
    }

    [Fact]
    public async Task A_closed_hour_is_rolled_up_once_and_events_written_into_it_later_are_not_counted()
    {
        var day = FreshDay();
        var app = NewAppId("cost-late");
        await AppendAsync(Event(app, "team", "standard", "fake-small", day.AddHours(5).AddMinutes(1), cost: 0.5m));

        var first = await Dashboard.GetSpendAsync(day.AddHours(5), day.AddHours(6), CostGranularity.Hour, CostDimension.App);
        Assert.Equal(0.5m, GroupTotal(first, app).CostUsd);
        Assert.Equal((1, 0), (first.ClosedHours, first.LiveHours));

        await AppendAsync(
            Event(app, "team", "standard", "fake-small", day.AddHours(5).AddMinutes(2), cost: 0.25m),
            Event(app, "team", "standard", "fake-small", day.AddHours(6).AddMinutes(2), cost: 0.125m));

        // Hour 5 is final; hour 6 had not been rolled up yet, so its late event is in its (first) roll-up.
        var again = await Dashboard.GetSpendAsync(day.AddHours(5), day.AddHours(7), CostGranularity.Hour, CostDimension.App);
        Assert.Equal(
            [(day.AddHours(5), 0.5m), (day.AddHours(6), 0.125m)],
            again.Groups.Single(g => g.Key == app).Series.Select(p => (p.Start, p.Totals.CostUsd)));

        // The hour's grain answers from its stored roll-up: the late event (a second request) is not in it.
        var stored = await fixture.Grains.GetGrain<ICostHourGrain>(CostDays.HourKeyOf(day.AddHours(5))).GetFinalAsync();
        Assert.True(stored.Final);
        Assert.Equal(1, stored.Cells.Single(c => c.AppId == app).Totals.Requests);
    }

    [Fact]
    public async Task Open_hours_are_computed_live_reused_briefly_and_final_once_the_grace_period_has_passed()
    {
        // Any live roll-up another test left cached at this instant is stale after this.
        ClusterFixture.Time.Advance(new CostOptions().LiveCacheFor);
        var now = ClusterFixture.Time.GetUtcNow();
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        var app = NewAppId("cost-live");
        await AppendAsync(Event(app, "team", "standard", "fake-small", now, cost: 0.1m));

        var live = await Dashboard.GetSpendAsync(hour, hour.AddHours(1), CostGranularity.Hour, CostDimension.App);
        Assert.Equal(0.1m, GroupTotal(live, app).CostUsd);
        Assert.Equal((0, 1), (live.ClosedHours, live.LiveHours));

        await AppendAsync(Event(app, "team", "standard", "fake-small", now, cost: 0.2m));
        var reused = await Dashboard.GetSpendAsync(hour, hour.AddHours(1), CostGranularity.Hour, CostDimension.App);
        Assert.Equal(0.1m, GroupTotal(reused, app).CostUsd);

        ClusterFixture.Time.Advance(new CostOptions().LiveCacheFor);
        var refreshed = await Dashboard.GetSpendAsync(hour, hour.AddHours(1), CostGranularity.Hour, CostDimension.App);
        Assert.Equal(0.3m, GroupTotal(refreshed, app).CostUsd);

        await Assert.ThrowsAsync<InvalidOperationException>(() => fixture.Grains.GetGrain<ICostHourGrain>(CostDays.HourKeyOf(hour)).GetFinalAsync());

        // Past the end of the hour plus the grace period the hour is closed: rolled up and stored once.
        ClusterFixture.Time.Advance(hour.AddHours(1) + new CostOptions().RollupGrace - ClusterFixture.Time.GetUtcNow());
        var closed = await Dashboard.GetSpendAsync(hour, hour.AddHours(1), CostGranularity.Hour, CostDimension.App);
        Assert.Equal(0.3m, GroupTotal(closed, app).CostUsd);
        Assert.Equal((1, 0), (closed.ClosedHours, closed.LiveHours));
    }

    [Fact]
    public async Task Summary_gives_cost_per_1000_requests_by_tier_cache_savings_and_top_spenders()
    {
        var day = FreshDay();
        var (a, b) = (NewAppId("cost-sa"), NewAppId("cost-sb"));
        var at = day.AddHours(9);
        await AppendAsync(
            Event(a, "team-sum-1", "standard", "fake-small", at, cost: 0.005m),
            Event(a, "team-sum-1", "standard", "fake-small", at, "Completed", cost: 0.01m), // written before trace outcomes
            Event(b, "team-sum-2", "standard", "fake-large", at, cost: 0.045m),
            Event(a, "team-sum-1", "standard", "fake-small", at, TraceOutcomes.CacheHit, tokensIn: 1000, tokensOut: 500),
            Event(a, "team-sum-1", "standard", "retired-model", at, TraceOutcomes.CacheHit, tokensIn: 10, tokensOut: 10),
            Event(b, "team-sum-2", "standard", "fake-large", at, "CacheHit"),
            Event(a, "team-sum-1", "standard", "fake-small", at, TraceOutcomes.Blocked),
            Event(b, "team-sum-2", "local", "local-extractive-summarizer", at, tokensIn: 50, tokensOut: 5),
            Event(b, "team-sum-2", "local", "local-extractive-summarizer", at, TraceOutcomes.Error));

        var summary = await Dashboard.GetSummaryAsync(day, day.AddDays(1), top: 1);

        var standard = summary.ByTier.Single(t => t.Tier == "standard");
        Assert.Equal((7L, 6L, 0.06m), (standard.Requests, standard.Answered, standard.CostUsd));
        Assert.Equal(10m, standard.CostPer1KRequestsUsd); // 1000 × 0.06 / 6 answered (3 calls + 3 cache hits)
        var local = summary.ByTier.Single(t => t.Tier == "local");
        Assert.Equal((2L, 1L), (local.Requests, local.Answered));
        Assert.Equal(0m, local.CostPer1KRequestsUsd);

        // fake-small costs $1 per 1K input and $2 per 1K output: 1000 in + 500 out = $2. The hit on a model the catalog
        // does not know and the hit without token counts are unpriced.
        Assert.Equal(3, summary.CacheSavings.CacheHits);
        Assert.Equal(2m, summary.CacheSavings.SavedUsd);
        Assert.Equal(2, summary.CacheSavings.UnpricedCacheHits);
        Assert.Equal(Math.Round(3d / 7, 6), summary.CacheSavings.HitRate); // 3 hits of 7 answered calls (4 answered by a model)
        Assert.Contains("model catalog", summary.CacheSavings.Method);

        Assert.Equal([(b, 0.045m, 4L)], summary.TopApps.Select(s => (s.Key, s.CostUsd, s.Requests)));
        Assert.Equal([("team-sum-2", 0.045m)], summary.TopTeams.Select(s => (s.Key, s.CostUsd)));
        var all = await Dashboard.GetSummaryAsync(day, day.AddDays(1), top: 10);
        Assert.Equal([b, a], all.TopApps.Select(s => s.Key));
        Assert.Equal((9L, 4L, 3L, 1L, 1L), (summary.Total.Requests, summary.Total.Success, summary.Total.CacheHits, summary.Total.Blocked, summary.Total.Errors));

        // Tokens models processed: the cache hits' tokens are in the savings, not here.
        Assert.Equal((50L, 5L), (summary.Total.TokensIn, summary.Total.TokensOut));
    }

    [Fact]
    public async Task Incidents_per_1000_app_days_count_blocked_or_errored_bursts_above_both_thresholds()
    {
        var day = FreshDay();
        var (p, q, r, s) = (NewAppId("inc-p"), NewAppId("inc-q"), NewAppId("inc-r"), NewAppId("inc-s"));
        var events = new List<TraceEvent>();
        void Add(string app, DateTimeOffset at, string outcome, int count)
        {
            for (var i = 0; i < count; i++)
            {
                events.Add(Event(app, "team", "standard", "fake-small", at.AddSeconds(i), outcome));
            }
        }

        Add(p, day.AddHours(1), TraceOutcomes.Blocked, 4); // 6 of 8 blocked or errored: an incident
        Add(p, day.AddHours(1), TraceOutcomes.Error, 2);
        Add(p, day.AddHours(1), TraceOutcomes.Success, 2);
        Add(p, day.AddHours(2), TraceOutcomes.Blocked, 5); // 5 of 11: under half
        Add(p, day.AddHours(2), TraceOutcomes.Success, 6);
        Add(q, day.AddHours(1), TraceOutcomes.Error, 4); // every call failed, but fewer than 5
        Add(q, day.AddDays(1).AddHours(1), TraceOutcomes.Success, 1);
        Add(r, day.AddDays(1).AddHours(3), TraceOutcomes.Error, 5); // an incident
        Add(s, day.AddHours(4), TraceOutcomes.Throttled, 10); // throttling is governance at work, not an incident
        Add("", day.AddHours(4), TraceOutcomes.Unauthorized, 7); // no app: no app-day
        await AppendAsync([.. events]);

        var kpis = await Dashboard.GetKpisAsync(day, day.AddDays(2));

        // App-days: p and q and s on the first day, q and r on the second.
        Assert.Equal(5, kpis.Incidents.AppDays);
        Assert.Equal(2, kpis.Incidents.Incidents);
        Assert.Equal(400d, kpis.Incidents.Per1000AppDays);
        Assert.Equal(
            [(p, day.AddHours(1), 6L, 8L), (r, day.AddDays(1).AddHours(3), 5L, 5L)],
            kpis.Incidents.Items.Select(i => (i.AppId, i.HourStart, i.BlockedOrErrored, i.Calls)));
        Assert.Contains("IncidentMinEvents", kpis.Incidents.Definition);
    }

    [Fact]
    public async Task Kpis_give_mean_time_to_publish_from_version_transitions_and_a_reuse_rate()
    {
        const string Author = "author-alice";
        const string Approver = "approver-bob";
        var registry = fixture.Grains.GetGrain<IAppRegistryGrain>(0);
        var start = ClusterFixture.Time.GetUtcNow();
        AppManifest Manifest() => new("Cost KPI app", Author, "kpi", Audience.Internal, [], ["local"], "local", new AppQuotas(0, 0), "", "v1");

        async Task<IMicroAppGrain> DraftAsync()
        {
            var id = NewAppId("kpi");
            var app = fixture.Grains.GetGrain<IMicroAppGrain>(id);
            await app.CreateDraftAsync(Manifest(), Author);
            await registry.RegisterAsync(id);
            return app;
        }

        async Task PublishAsync(IMicroAppGrain app)
        {
            await app.SubmitAsync(1, Author);
            await app.RecordGatesAsync(1, [new GateResult("pii_scan", true, "no PII", ClusterFixture.Time.GetUtcNow())], needsApprover: true);
            await app.DecideAsync(1, Approver, approve: true, "fine");
            await app.PromoteAsync(1, Approver);
        }

        var slow = await DraftAsync();
        var quick = await DraftAsync();
        ClusterFixture.Time.Advance(TimeSpan.FromHours(1));
        await PublishAsync(quick);
        ClusterFixture.Time.Advance(TimeSpan.FromHours(3));
        await PublishAsync(slow);

        // Created already published (the admin bootstrap): never a draft, so not counted.
        var bootstrapId = NewAppId("kpi-boot");
        await fixture.Grains.GetGrain<IMicroAppGrain>(bootstrapId).CreateAsync(Manifest());
        await registry.RegisterAsync(bootstrapId);

        // From just after the start, so versions other tests published at the start are out of range.
        var kpis = await Dashboard.GetKpisAsync(start.AddMinutes(1), ClusterFixture.Time.GetUtcNow().AddMinutes(1));

        Assert.Equal(2, kpis.MeanTimeToPublish.Versions);
        Assert.Equal(2.5, kpis.MeanTimeToPublish.MeanHours);
        Assert.Equal(2.5, kpis.MeanTimeToPublish.MedianHours);

        var before = await Dashboard.GetKpisAsync(start.AddMinutes(1), start.AddHours(2));
        Assert.Equal(1, before.MeanTimeToPublish.Versions);
        Assert.Equal(1.0, before.MeanTimeToPublish.MeanHours);

        // None of these apps is built on the catalog; other tests' apps share the cluster, so only the bounds are known here
        // (tests/GrainTests/Catalog checks the figures).
        Assert.NotNull(kpis.ReuseRate.Value);
        Assert.InRange(kpis.ReuseRate.Value!.Value, 0d, 1d);
        Assert.True(kpis.ReuseRate.Apps >= 3, $"at least the three apps made here: {kpis.ReuseRate.Apps}");
        Assert.True(kpis.ReuseRate.AppsOnCatalog < kpis.ReuseRate.Apps);
    }

    [Fact]
    public async Task Budget_burn_projects_spend_so_far_over_the_elapsed_share_of_the_period()
    {
        // A quarter into a fresh UTC day, so a day budget's elapsed share is exactly 0.25.
        var now = ClusterFixture.Time.GetUtcNow();
        ClusterFixture.Time.SetUtcNow(new DateTimeOffset(now.Year, now.Month, now.Day, 0, 0, 0, TimeSpan.Zero).AddDays(1).AddHours(6));
        var registry = fixture.Grains.GetGrain<IAppRegistryGrain>(0);

        async Task<string> AppWithSpendAsync(decimal? limit, decimal spend)
        {
            var id = NewAppId("burn");
            var info = await fixture.Grains.GetGrain<IMicroAppGrain>(id).CreateAsync(
                new AppManifest("Burn app", "owner", "burn", Audience.Internal, [], ["local"], "local", new AppQuotas(0, 0), "", "v1"));
            await registry.RegisterAsync(id);
            if (limit is { } usd)
            {
                var budget = fixture.Grains.GetGrain<IBudgetGrain>(info.EffectiveBudgetId);
                await budget.ConfigureAsync(new BudgetSettings(usd, BudgetPeriod.Day));
                Assert.True((await budget.ReserveAsync($"{id}/r1", spend)).IsGranted);
                await budget.SettleAsync($"{id}/r1", spend);
            }

            return info.EffectiveBudgetId;
        }

        var over = await AppWithSpendAsync(5m, 1.5m);
        var onTrack = await AppWithSpendAsync(10m, 1.5m);
        var unconfigured = await AppWithSpendAsync(null, 0m);

        var burns = await Dashboard.GetBudgetBurnAsync();

        var o = burns.Single(b => b.BudgetId == over);
        Assert.Equal(0.25, o.ElapsedShare);
        Assert.Equal(6m, o.ProjectedUsd); // 1.5 / 0.25
        Assert.Equal(0.25m, o.BurnRateUsdPerHour); // 1.5 over 6 hours
        Assert.Equal(BudgetBurnStatus.Over, o.Status);
        Assert.Equal("day", o.Period);
        Assert.Equal(o.PeriodStart.AddDays(1), o.PeriodEnd);
        Assert.Single(o.Apps);
        var t = burns.Single(b => b.BudgetId == onTrack);
        Assert.Equal((1.5m, 6m, BudgetBurnStatus.OnTrack), (t.SpentUsd, t.ProjectedUsd, t.Status));
        Assert.DoesNotContain(burns, b => b.BudgetId == unconfigured);
    }

    [Fact]
    public async Task Ranges_that_are_empty_or_too_long_for_the_granularity_are_refused_naming_the_parameter()
    {
        var day = FreshDay();
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => Dashboard.GetSpendAsync(day, day, CostGranularity.Day, CostDimension.App));
        Assert.Contains("to", empty.Message);
        var hourly = await Assert.ThrowsAsync<ArgumentException>(() => Dashboard.GetSpendAsync(day, day.AddDays(40), CostGranularity.Hour, CostDimension.App));
        Assert.Contains("hourly", hourly.Message);
        var top = await Assert.ThrowsAsync<ArgumentException>(() => Dashboard.GetSummaryAsync(day, day.AddDays(1), 0));
        Assert.Contains("top", top.Message);

        // 40 days are fine by day (in 2024, where no test writes events, so no test's days are closed early).
        var quiet = new DateTimeOffset(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var daily = await Dashboard.GetSpendAsync(quiet, quiet.AddDays(40), CostGranularity.Day, CostDimension.App);
        Assert.Equal(40, daily.Buckets.Count);
    }
}
