using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MicroApps.Orleans.Savings;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>The app's premium share on the admin API, and thumbs feedback becoming quality evidence.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class SavingsSamplingTests(FrontDoorFixture fixture)
{
    private IGrainFactory Grains => fixture.FrontDoor.Services.GetRequiredService<IGrainFactory>();

    private async Task<string> CreateAppAsync(string appId, object savings)
    {
        using var created = await fixture.AdminAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Sampling " + appId,
            owner = "tests@example.com",
            team = "frontdoor-tests",
            audience = "internal",
            dataClasses = Array.Empty<string>(),
            allowedTiers = new[] { "standard", "premium" },
            defaultTier = "standard",
            quotas = new { requestsPerMinute = 1000, tokensPerDay = 10_000_000 },
            budget = new { limitUsd = 100m, period = "day" },
            initialState = "published",
            savings,
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"create app: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return await fixture.IssueKeyAsync(appId);
    }

    private async Task<JsonElement> SavingsAsync(string appId, string token = FrontDoorFixture.ViewerToken)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}/savings", token: token);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task The_admin_api_shows_the_premium_share_its_bounds_and_when_it_was_last_adjusted()
    {
        var appId = FrontDoorFixture.NewAppId("smp");
        var key = await CreateAppAsync(appId, new { sampling = new { minShare = 0.2, maxShare = 0.9 } });

        var before = await SavingsAsync(appId);
        Assert.True(before.GetProperty("sampling").GetBoolean());
        Assert.Equal(0.9, before.GetProperty("premiumShare").GetDouble());
        Assert.Equal(0.2, before.GetProperty("minShare").GetDouble());
        Assert.Equal(0.9, before.GetProperty("maxShare").GetDouble());
        Assert.Equal(JsonValueKind.Null, before.GetProperty("lastAdjustedAt").ValueKind);
        Assert.Equal($"app:{appId}", before.GetProperty("budgetId").GetString());

        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", "Summarise the sampling memo.")))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        var after = await SavingsAsync(appId);
        Assert.NotEqual(JsonValueKind.Null, after.GetProperty("lastAdjustedAt").ValueKind);
        Assert.Equal(JsonValueKind.Number, after.GetProperty("burnRatio").ValueKind);
        Assert.InRange(after.GetProperty("premiumShare").GetDouble(), 0.2, 0.9);
    }

    [Fact]
    public async Task An_app_without_sampling_shows_none_and_bad_or_unknown_ids_are_refused()
    {
        var appId = FrontDoorFixture.NewAppId("smp");
        await CreateAppAsync(appId, new { routing = false });

        var view = await SavingsAsync(appId);
        Assert.False(view.GetProperty("sampling").GetBoolean());
        Assert.Equal(JsonValueKind.Null, view.GetProperty("premiumShare").ValueKind);

        using var unknown = await fixture.AdminAsync(HttpMethod.Get, "admin/apps/no-such-app-here/savings");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var invalid = await fixture.AdminAsync(HttpMethod.Get, "admin/apps/Not_Valid/savings");
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("appId", await invalid.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Thumbs_on_a_call_are_recorded_once_as_feedback_evidence_about_the_model_that_answered()
    {
        var appId = FrontDoorFixture.NewAppId("fbq");
        var key = await CreateAppAsync(appId, new { task = "classify" });
        var requestId = "fbq-" + Guid.NewGuid().ToString("N");
        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", "Label this ticket: refund please."), requestId))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        var quality = Grains.GetGrain<IModelQualityGrain>(QueryTypes.Classify);
        var before = FeedbackSamples(await quality.GetAsync());

        await PostFeedbackAsync(key, requestId, "down");
        await PostFeedbackAsync(key, requestId, "down");

        var table = await quality.GetAsync();
        Assert.Equal(before + 1, FeedbackSamples(table));

        // Label-only feedback is no quality evidence.
        var other = "fbq-" + Guid.NewGuid().ToString("N");
        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", "Label this one too."), other))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        await PostFeedbackAsync(key, other, thumbs: null);
        Assert.Equal(before + 1, FeedbackSamples(await quality.GetAsync()));
    }

    private static long FeedbackSamples(QualityTable table) =>
        table.Models.FirstOrDefault(m => m.Model == FrontDoorFixture.StandardModel)?.SamplesBySource.GetValueOrDefault(QualitySources.Feedback) ?? 0;

    /// <summary>Posts thumbs, waiting (with a deadline) for the call's trace to be queryable first.</summary>
    private async Task PostFeedbackAsync(string key, string requestId, string? thumbs)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await SendFeedbackAsync(key, thumbs is null
                ? $$"""{"request_id":"{{requestId}}","label":"seen"}"""
                : $$"""{"request_id":"{{requestId}}","thumbs":"{{thumbs}}"}""");
            if (response.StatusCode == HttpStatusCode.NotFound && DateTime.UtcNow < deadline)
            {
                continue;
            }

            Assert.True(response.StatusCode == HttpStatusCode.OK, $"feedback: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return;
        }
    }

    private Task<HttpResponseMessage> SendFeedbackAsync(string key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/feedback") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return fixture.Http.SendAsync(request);
    }
}
