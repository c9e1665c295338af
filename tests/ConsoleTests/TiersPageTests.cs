using System.Globalization;
using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.ConsoleTests;

/// <summary>The model tiers page: each tier, its models, prices, health, latency and call counts.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class TiersPageTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task Tiers_page_shows_the_configured_tiers_with_their_prices_and_the_health_the_api_reports()
    {
        var appId = FrontDoorFixture.NewAppId("tiers");
        var key = await fixture.FrontDoor.CreateAppWithKeyAsync(appId);
        using (var chat = await fixture.FrontDoor.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", "Hello from the tiers page test.")))
        {
            Assert.True(chat.StatusCode == HttpStatusCode.OK, $"chat: {(int)chat.StatusCode} {await chat.Content.ReadAsStringAsync()}");
        }

        // The gateway reports a call's outcome to its tier grain one-way, after answering: wait until it is counted.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        long successes;
        while ((successes = await StandardSuccessesAsync()) < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the call through the front door was not counted as a success of the standard model within 30 s");
            await Task.Yield();
        }

        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, "/tiers");

        foreach (var tier in new[] { "standard", "premium", "local" })
        {
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = tier, Exact = true })).ToBeVisibleAsync();
        }

        var standard = page.GetByRole(AriaRole.Table, new() { Name = "Models of standard" });
        var standardRow = standard.GetByRole(AriaRole.Row).Filter(new() { HasText = FrontDoorFixture.StandardModel });
        await Expect(standardRow).ToContainTextAsync("$0.50");
        await Expect(standardRow).ToContainTextAsync("$1.50");
        await Expect(standardRow).ToContainTextAsync("128,000 tokens");
        await Expect(standardRow).ToContainTextAsync("external");
        await Expect(standardRow).ToContainTextAsync("healthy");
        await Expect(standardRow).ToContainTextAsync(" ms");
        await Expect(standardRow.Locator("td[data-label='Successes']")).ToHaveTextAsync(successes.ToString("#,##0", CultureInfo.InvariantCulture));

        var premiumRow = page.GetByRole(AriaRole.Table, new() { Name = "Models of premium" }).GetByRole(AriaRole.Row).Filter(new() { HasText = FrontDoorFixture.PremiumModel });
        await Expect(premiumRow).ToContainTextAsync("$5.00");
        await Expect(premiumRow).ToContainTextAsync("$15.00");

        var localRow = page.GetByRole(AriaRole.Table, new() { Name = "Models of local" }).GetByRole(AriaRole.Row).Filter(new() { HasText = FrontDoorFixture.LocalModel });
        await Expect(localRow).ToContainTextAsync("$0.00");
        await Expect(localRow).ToContainTextAsync("in-house");
        await Expect(localRow).ToContainTextAsync("8,192 tokens");
        await ConsoleFixture.ScreenshotAsync(page, "06-tiers");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Tiers_page_fits_a_phone_without_horizontal_overflow()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken, ConsoleFixture.Phone);
        await ConsoleFixture.GoToAsync(page, "/tiers");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Models of premium" })).ToContainTextAsync(FrontDoorFixture.PremiumModel);

        await ConsoleFixture.AssertFitsAsync(page, "the tiers page");
        await ConsoleFixture.ScreenshotAsync(page, "06-tiers-phone");
        await page.Context.CloseAsync();
    }

    private async Task<long> StandardSuccessesAsync()
    {
        using var response = await fixture.FrontDoor.AdminAsync(HttpMethod.Get, "admin/tiers");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var standard = json.RootElement.EnumerateArray().Single(t => t.GetProperty("tier").GetString() == "standard");
        var model = standard.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == FrontDoorFixture.StandardModel);
        return model.GetProperty("health").GetProperty("successes").GetInt64();
    }
}
