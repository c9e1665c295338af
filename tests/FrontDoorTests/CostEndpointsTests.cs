using System.Globalization;
using System.Net;
using System.Text.Json;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>The cost dashboard endpoints: real spend of governed calls, synthetic events in the front door's trace store, bad parameters.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class CostEndpointsTests(FrontDoorFixture fixture)
{
    private static int _days;

    private async Task<JsonElement> GetJsonAsync(string path, string token = FrontDoorFixture.ViewerToken)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, path, token: token);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));

    private static JsonElement? Group(JsonElement series, string key) =>
        series.GetProperty("groups").EnumerateArray().Where(g => g.GetProperty("key").GetString() == key).Select(g => (JsonElement?)g).FirstOrDefault();

    [Theory]
    [InlineData("admin/cost/spend?granularity=week", "granularity")]
    [InlineData("admin/cost/spend?groupBy=colour", "groupBy")]
    [InlineData("admin/cost/spend?from=yesterday", "from")]
    [InlineData("admin/cost/spend?from=2026-11-02&to=2026-11-01", "to")]
    [InlineData("admin/cost/spend?granularity=hour&from=2026-01-01&to=2026-03-01", "to")]
    [InlineData("admin/cost/summary?top=0", "top")]
    [InlineData("admin/cost/summary?top=many", "top")]
    [InlineData("admin/cost/summary?from=2020-01-01&to=2026-01-01", "to")]
    [InlineData("admin/kpis?to=not-a-date", "to")]
    public async Task Bad_parameters_get_400_problem_details_naming_the_parameter(string path, string field)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, path, token: FrontDoorFixture.ViewerToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"{path}: expected an error on '{field}', got {json.RootElement}");
    }

    [Fact]
    public async Task Spend_and_summary_sum_the_stored_trace_events_exactly_by_app_tier_and_granularity()
    {
        // A past day of its own: every hour of it is closed, so the figures are the stored roll-ups.
        var day = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero).AddDays(2 * Interlocked.Increment(ref _days));
        var app = FrontDoorFixture.NewAppId("cost-fd");
        TraceEvent Event(int hour, string outcome, string tier, string model, decimal cost) =>
            new(app, Guid.NewGuid().ToString("N"), model, tier, 100, 20, 5, "v1", cost, tier, outcome, null, "cost-team", "hash",
                outcome == TraceOutcomes.CacheHit, cost, day.AddHours(hour).AddMinutes(7), []);
        var store = fixture.FrontDoor.Services.GetRequiredService<ITraceStore>();
        await store.AppendAsync(
            [
                Event(2, TraceOutcomes.Success, "premium", FrontDoorFixture.PremiumModel, 0.0008m),
                Event(2, TraceOutcomes.Success, "standard", FrontDoorFixture.StandardModel, 0.00008m),
                Event(5, TraceOutcomes.Success, "premium", FrontDoorFixture.PremiumModel, 0.0012m),
                Event(5, TraceOutcomes.CacheHit, "premium", FrontDoorFixture.PremiumModel, 0m),
                Event(5, TraceOutcomes.Blocked, "premium", FrontDoorFixture.PremiumModel, 0m),
            ],
            []);
        var (from, to) = (Iso(day), Iso(day.AddDays(1)));

        var hourly = await GetJsonAsync($"admin/cost/spend?from={from}&to={to}&granularity=hour&groupBy=tier");
        Assert.Equal("hour", hourly.GetProperty("granularity").GetString());
        Assert.Equal("tier", hourly.GetProperty("groupBy").GetString());
        Assert.Equal(24, hourly.GetProperty("buckets").GetArrayLength());
        var premium = Group(hourly, "premium")!.Value;
        Assert.Equal(0.002m, premium.GetProperty("total").GetProperty("costUsd").GetDecimal());
        Assert.Equal(
            [(day.AddHours(2), 0.0008m), (day.AddHours(5), 0.0012m)],
            premium.GetProperty("series").EnumerateArray().Select(p => (p.GetProperty("start").GetDateTimeOffset(), p.GetProperty("totals").GetProperty("costUsd").GetDecimal())));

        var daily = await GetJsonAsync($"admin/cost/spend?from={from}&to={to}&groupBy=app");
        Assert.Equal("day", daily.GetProperty("granularity").GetString());
        var total = Group(daily, app)!.Value.GetProperty("total");
        Assert.Equal(0.00208m, total.GetProperty("costUsd").GetDecimal());
        Assert.Equal(5, total.GetProperty("requests").GetInt64());
        Assert.Equal(1, total.GetProperty("cacheHits").GetInt64());
        Assert.Equal(1, total.GetProperty("blocked").GetInt64());

        var summary = await GetJsonAsync($"admin/cost/summary?from={from}&to={to}");
        var tiers = summary.GetProperty("byTier").EnumerateArray().ToDictionary(t => t.GetProperty("tier").GetString()!);
        Assert.Equal(0.66666667m, tiers["premium"].GetProperty("costPer1KRequestsUsd").GetDecimal()); // 1000 × 0.002 / 3 answered
        Assert.Equal(0.08m, tiers["standard"].GetProperty("costPer1KRequestsUsd").GetDecimal());
        // gpt-4o at $5 in / $15 out per 1K: 100 in + 20 out = $0.8.
        Assert.Equal(0.8m, summary.GetProperty("cacheSavings").GetProperty("savedUsd").GetDecimal());
        Assert.Equal(app, summary.GetProperty("topApps")[0].GetProperty("key").GetString());
        Assert.Equal("cost-team", summary.GetProperty("topTeams")[0].GetProperty("key").GetString());
    }

    [Fact]
    public async Task Real_governed_calls_show_in_the_spend_with_exactly_what_their_budget_was_charged()
    {
        var appId = FrontDoorFixture.NewAppId("cost-live");
        var key = await fixture.CreateAppWithKeyAsync(appId, allowedTiers: ["standard", "premium", "local"]);
        var (misses, hits, charged) = (0, 0, 0m);

        async Task<bool> CallAsync(string model, string text)
        {
            using var response = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(model, text));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            charged += decimal.Parse(response.Headers.GetValues("x-microapps-cost-usd").Single(), CultureInfo.InvariantCulture);
            var hit = response.Headers.GetValues("x-microapps-cache").Single() == "hit";
            (misses, hits) = hit ? (misses, hits + 1) : (misses + 1, hits);
            return hit;
        }

        await CallAsync(FrontDoorFixture.StandardModel, "what is the cost of " + appId);
        await CallAsync(FrontDoorFixture.PremiumModel, "and on the premium tier, " + appId);

        // The cache entry is written one-way after the first answer: repeat (bounded) until the cache serves it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await CallAsync(FrontDoorFixture.StandardModel, "what is the cost of " + appId))
        {
            Assert.True(DateTime.UtcNow < deadline, "the repeated request was never served from the cache");
        }

        using (var refused = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("no-such-model", "hello")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        var spent = (await GetJsonAsync($"admin/apps/{appId}")).GetProperty("spentUsd").GetDecimal();
        Assert.Equal(charged, spent);
        Assert.True(spent > 0m);

        // The current hour is live and reused for a few seconds: poll (bounded) until every call is in it.
        var now = DateTimeOffset.UtcNow;
        var path = $"admin/cost/spend?from={Iso(now.AddHours(-1))}&to={Iso(now.AddHours(1))}&granularity=hour&groupBy=app";
        JsonElement total;
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var series = await GetJsonAsync(path);
            if (Group(series, appId) is { } group && group.GetProperty("total").GetProperty("requests").GetInt64() == misses + hits + 1)
            {
                total = group.GetProperty("total");
                Assert.True(series.GetProperty("liveHours").GetInt32() >= 1);
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the spend never showed the {misses + hits + 1} calls of {appId}: {Group(series, appId)}");
        }

        Assert.Equal(spent, total.GetProperty("costUsd").GetDecimal());
        Assert.Equal(misses, total.GetProperty("success").GetInt64());
        Assert.Equal(hits, total.GetProperty("cacheHits").GetInt64());
        Assert.True(total.GetProperty("cacheSavedUsd").GetDecimal() > 0m, "a cache hit's trace carries the cached answer's tokens, so its saving is priced");
        Assert.Equal(0, total.GetProperty("unpricedCacheHits").GetInt64());
        Assert.Equal(1, total.GetProperty("invalid").GetInt64());
        Assert.True(total.GetProperty("tokensIn").GetInt64() > 0);

        var byModel = await GetJsonAsync($"admin/cost/spend?from={Iso(now.AddHours(-1))}&to={Iso(now.AddHours(1))}&granularity=day&groupBy=model");
        Assert.NotNull(Group(byModel, FrontDoorFixture.PremiumModel));
    }

    [Fact]
    public async Task Budgets_show_spend_so_far_burn_rate_and_projection_of_an_apps_budget()
    {
        var appId = FrontDoorFixture.NewAppId("cost-burn");
        var key = await fixture.CreateAppWithKeyAsync(appId, budgetLimitUsd: 100m);
        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "what does this cost " + appId)))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        var app = await GetJsonAsync($"admin/apps/{appId}");
        var spent = app.GetProperty("spentUsd").GetDecimal();
        Assert.True(spent > 0m, "a call on the standard tier costs something");

        var budgets = await GetJsonAsync("admin/cost/budgets", FrontDoorFixture.AuthorToken);
        var burn = budgets.EnumerateArray().Single(b => b.GetProperty("budgetId").GetString() == app.GetProperty("budgetId").GetString());
        Assert.Equal(spent, burn.GetProperty("spentUsd").GetDecimal());
        Assert.Equal(100m, burn.GetProperty("limitUsd").GetDecimal());
        Assert.Equal("day", burn.GetProperty("period").GetString());
        Assert.Equal([appId], burn.GetProperty("apps").EnumerateArray().Select(a => a.GetString()));
        Assert.True(burn.GetProperty("projectedUsd").GetDecimal() >= spent, "the projection extrapolates the spend so far");
        Assert.Equal("on_track", burn.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Kpis_report_the_reuse_rate_and_define_each_figure()
    {
        // An app exists, so the reuse rate has a value (tests/FrontDoorTests/Catalog checks the figures).
        await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("kpi"));
        var kpis = await GetJsonAsync("admin/kpis", FrontDoorFixture.AuthorToken);

        Assert.InRange(kpis.GetProperty("reuseRate").GetProperty("value").GetDouble(), 0d, 1d);
        Assert.Contains("catalog", kpis.GetProperty("reuseRate").GetProperty("definition").GetString());
        Assert.Contains("draft", kpis.GetProperty("meanTimeToPublish").GetProperty("definition").GetString());
        Assert.Contains("app-days", kpis.GetProperty("incidents").GetProperty("definition").GetString());
        Assert.Equal(JsonValueKind.Array, kpis.GetProperty("costPer1KRequestsByTier").ValueKind);
    }
}
