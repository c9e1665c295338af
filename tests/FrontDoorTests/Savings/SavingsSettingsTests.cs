using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests.Savings;

/// <summary>An app's savings settings through the admin API: stored on the manifest, shown back, and validated by field.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class SavingsSettingsTests(FrontDoorFixture fixture)
{
    [Fact]
    public async Task Savings_settings_are_part_of_the_manifest()
    {
        var appId = FrontDoorFixture.NewAppId("sav");
        var savings = new
        {
            routing = true,
            qualitySlo = 0.85,
            task = "Summarise",
            sampling = new { minShare = 0.2, maxShare = 0.9 },
            nearDuplicate = new { enabled = false, threshold = 0.95 },
        };
        using (var created = await fixture.AdminAsync(HttpMethod.Post, "admin/apps", FrontDoorFixture.SavingsAppBody(appId, savings)))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"create app: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        using var app = await fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        using var json = JsonDocument.Parse(await app.Content.ReadAsStringAsync());
        var shown = json.RootElement.GetProperty("savings");
        Assert.True(shown.GetProperty("routing").GetBoolean());
        Assert.Equal(0.85, shown.GetProperty("qualitySlo").GetDouble());
        Assert.Equal("summarise", shown.GetProperty("task").GetString());
        Assert.Equal(0.2, shown.GetProperty("sampling").GetProperty("minShare").GetDouble());
        Assert.Equal(0.9, shown.GetProperty("sampling").GetProperty("maxShare").GetDouble());
        Assert.False(shown.GetProperty("nearDuplicate").GetProperty("enabled").GetBoolean());
        Assert.Equal(0.95, shown.GetProperty("nearDuplicate").GetProperty("threshold").GetDouble());
    }

    [Fact]
    public async Task An_app_without_savings_settings_shows_none()
    {
        var appId = FrontDoorFixture.NewAppId("sav");
        using (var created = await fixture.AdminAsync(HttpMethod.Post, "admin/apps", FrontDoorFixture.SavingsAppBody(appId, savings: null)))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var app = await fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        using var json = JsonDocument.Parse(await app.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.TryGetProperty("savings", out var shown) is false || shown.ValueKind == JsonValueKind.Null, json.RootElement.ToString());
    }

    public static TheoryData<string, string> BadSavings => new()
    {
        { """{"qualitySlo": 0}""", "savings.qualitySlo" },
        { """{"qualitySlo": 1.2}""", "savings.qualitySlo" },
        { """{"task": "poetry"}""", "savings.task" },
        { """{"sampling": {"minShare": 0.5}}""", "savings.sampling.maxShare" },
        { """{"sampling": {"minShare": -0.1, "maxShare": 1}}""", "savings.sampling.minShare" },
        { """{"sampling": {"minShare": 0.8, "maxShare": 0.4}}""", "savings.sampling.maxShare" },
        { """{"nearDuplicate": {"enabled": true, "threshold": 0}}""", "savings.nearDuplicate.threshold" },
    };

    [Theory]
    [MemberData(nameof(BadSavings))]
    public async Task Invalid_savings_settings_are_refused_naming_the_field(string savingsJson, string field)
    {
        var appId = FrontDoorFixture.NewAppId("sav");
        using var refused = await fixture.AdminAsync(HttpMethod.Post, "admin/apps", FrontDoorFixture.SavingsAppBody(appId, JsonDocument.Parse(savingsJson).RootElement));
        var text = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        using var json = JsonDocument.Parse(text);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), text);

        // Nothing was created.
        using var missing = await fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
