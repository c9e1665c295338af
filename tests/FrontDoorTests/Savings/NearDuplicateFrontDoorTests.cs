using System.Net;
using System.Text.Json;
using MicroApps.Orleans.Caching;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests.Savings;

/// <summary>The near-duplicate cache through the front door, with apps set up through the admin API.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class NearDuplicateFrontDoorTests(FrontDoorFixture fixture)
{
    private async Task<string> CreateAppAsync(string appId, string[] dataClasses, object? savings = null)
    {
        using var created = await fixture.AdminAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Near-duplicate " + appId,
            owner = "tests@example.com",
            team = "frontdoor-tests",
            audience = "internal",
            dataClasses,
            allowedTiers = new[] { "standard" },
            defaultTier = "standard",
            quotas = new { requestsPerMinute = 1000, tokensPerDay = 1_000_000 },
            budget = new { limitUsd = 100m, period = "day" },
            savings,
            initialState = "published",
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"create app: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return await fixture.IssueKeyAsync(appId);
    }

    private async Task<(string Content, int PromptTokens)> AskAsync(string apiKey, string text)
    {
        using var response = await fixture.PostChatAsync(apiKey, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, text, maxTokens: 16));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"chat: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return (json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!,
            json.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    private async Task StoredAsync(string appId)
    {
        var near = fixture.FrontDoor.Services.GetRequiredService<IGrainFactory>().GetGrain<INearDuplicateCacheGrain>(appId);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await near.GetStatsAsync()).Entries < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting for the near-duplicate put.");
            await Task.Yield();
        }
    }

    private static string Topic() => "zq" + Guid.NewGuid().ToString("N")[..10].Replace('0', 'x');

    [Fact]
    public async Task A_paraphrase_is_answered_from_the_cache_without_reaching_the_upstream()
    {
        var appId = FrontDoorFixture.NewAppId("nd");
        var key = await CreateAppAsync(appId, ["internal"]);
        var topic = Topic();

        var first = await AskAsync(key, $"What is the {topic} refund policy for damaged items?");
        await StoredAsync(appId);
        var before = fixture.Upstream.RequestsReceived;
        var paraphrase = await AskAsync(key, $"hi! what's the {topic} refund policy for damaged items, please");

        Assert.Equal(before, fixture.Upstream.RequestsReceived);
        Assert.Equal(first.Content, paraphrase.Content);
        Assert.Equal(0, paraphrase.PromptTokens);
    }

    [Fact]
    public async Task Apps_that_declare_pii_or_turn_it_off_reach_the_upstream_for_a_paraphrase()
    {
        var piiApp = FrontDoorFixture.NewAppId("ndp");
        var offApp = FrontDoorFixture.NewAppId("ndo");
        var piiKey = await CreateAppAsync(piiApp, ["email"]);
        var offKey = await CreateAppAsync(offApp, [], new { nearDuplicate = new { enabled = false } });
        var topic = Topic();

        await AskAsync(piiKey, $"What is the {topic} refund policy?");
        await AskAsync(offKey, $"What is the {topic} refund policy?");
        var before = fixture.Upstream.RequestsReceived;
        await AskAsync(piiKey, $"what's the {topic} refund policy");
        await AskAsync(offKey, $"what's the {topic} refund policy");

        Assert.Equal(before + 2, fixture.Upstream.RequestsReceived);

        // Never consulted: the lookup is awaited before the backend call, so a consulted cache would count misses by now.
        var grains = fixture.FrontDoor.Services.GetRequiredService<IGrainFactory>();
        foreach (var appId in new[] { piiApp, offApp })
        {
            var stats = await grains.GetGrain<INearDuplicateCacheGrain>(appId).GetStatsAsync();
            Assert.Equal((0, 0L, 0L), (stats.Entries, stats.NearHits, stats.Misses));
        }
    }
}
