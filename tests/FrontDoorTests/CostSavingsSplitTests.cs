using System.Globalization;
using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>The savings split of <c>GET /admin/cost/summary</c> and the spend series for real governed calls.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class CostSavingsSplitTests(FrontDoorFixture fixture)
{
    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, path, token: FrontDoorFixture.ViewerToken);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_cache_hit_shows_under_savings_by_kind_cache_at_what_the_miss_was_charged()
    {
        var appId = FrontDoorFixture.NewAppId("save-fd");
        var key = await fixture.CreateAppWithKeyAsync(appId, allowedTiers: ["premium", "standard"]);
        var body = FrontDoorFixture.ChatBody(FrontDoorFixture.PremiumModel, "what did the cache save for " + appId);
        decimal missCost;
        using (var miss = await fixture.PostChatAsync(key, body))
        {
            Assert.Equal(HttpStatusCode.OK, miss.StatusCode);
            Assert.Equal("miss", miss.Headers.GetValues("x-microapps-cache").Single());
            missCost = decimal.Parse(miss.Headers.GetValues("x-microapps-cost-usd").Single(), CultureInfo.InvariantCulture);
        }

        Assert.True(missCost > 0m, "a premium call costs something");

        // The cache entry is written one-way after the first answer: repeat (bounded) until the cache serves it.
        var (hits, misses) = (0, 1);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (hits == 0)
        {
            using var call = await fixture.PostChatAsync(key, body);
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
            if (call.Headers.GetValues("x-microapps-cache").Single() == "hit")
            {
                hits++;
            }
            else
            {
                misses++;
            }

            Assert.True(DateTime.UtcNow < deadline, "the repeated request was never served from the cache");
        }

        // A hit's baseline is its cached answer's tokens on the requested (premium) model: exactly what the miss was charged.
        var now = DateTimeOffset.UtcNow;
        var range = $"from={Iso(now.AddHours(-1))}&to={Iso(now.AddHours(1))}";
        JsonElement total = default;
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var series = await GetJsonAsync($"admin/cost/spend?{range}&granularity=hour&groupBy=app");
            var group = series.GetProperty("groups").EnumerateArray().FirstOrDefault(g => g.GetProperty("key").GetString() == appId);
            if (group.ValueKind == JsonValueKind.Object && group.GetProperty("total").GetProperty("requests").GetInt64() == hits + misses)
            {
                total = group.GetProperty("total");
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the spend never showed the {hits + misses} calls of {appId}");
        }

        Assert.Equal(missCost * hits, total.GetProperty("savedCacheUsd").GetDecimal());
        Assert.Equal(0m, total.GetProperty("savedRoutingUsd").GetDecimal());
        Assert.Equal(missCost * (hits + misses), total.GetProperty("baselineUsd").GetDecimal());
        Assert.Equal(missCost * misses, total.GetProperty("costUsd").GetDecimal());

        // The summary covers every app in the range: its cache saving includes this app's, and its figures reconcile.
        var savings = (await GetJsonAsync($"admin/cost/summary?{range}")).GetProperty("savings");
        var byKind = savings.GetProperty("byKind");
        Assert.True(byKind.GetProperty("cache").GetDecimal() >= missCost * hits, $"byKind.cache misses this app's hit: {savings}");
        var saved = savings.GetProperty("savedUsd").GetDecimal();
        Assert.Equal(
            byKind.GetProperty("cache").GetDecimal() + byKind.GetProperty("nearDuplicate").GetDecimal() + byKind.GetProperty("routing").GetDecimal()
            + byKind.GetProperty("sampling").GetDecimal() + byKind.GetProperty("other").GetDecimal(),
            saved);
        Assert.Equal(
            savings.GetProperty("baselineUsd").GetDecimal(),
            savings.GetProperty("spentUsd").GetDecimal() + saved - savings.GetProperty("overBaselineUsd").GetDecimal());
    }
}
