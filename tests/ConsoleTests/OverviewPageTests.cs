using System.Globalization;
using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.ConsoleTests;

/// <summary>The overview page: silos, spend today and this month, top apps, open budget alerts, approvals waiting.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class OverviewPageTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task Overview_shows_the_silo_and_a_fresh_apps_spend_and_budget_alert_after_a_real_call()
    {
        var appId = FrontDoorFixture.NewAppId("ovw");
        var budgetId = await CallPremiumAsync(appId);
        var spent = await WaitForMonthSpendAsync(appId);
        await WaitForAlertAsync(budgetId);

        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, "/");

        var silos = page.GetByRole(AriaRole.Table, new() { Name = "Silos" });
        await Expect(silos).ToContainTextAsync("active");
        await Expect(silos.GetByRole(AriaRole.Row)).ToHaveCountAsync(2); // the heading row and the one co-hosted silo

        var row = page.GetByRole(AriaRole.Table, new() { Name = "Top apps by spend" }).GetByRole(AriaRole.Row).Filter(new() { HasText = appId });
        await Expect(row).ToContainTextAsync(ConsoleFixture.Money(spent));
        await Expect(row.GetByRole(AriaRole.Link, new() { Name = appId })).ToHaveAttributeAsync("href", $"/console/apps/{appId}");

        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Open budget alerts" })).ToContainTextAsync(budgetId);
        await Expect(page.GetByTestId("spend-month")).Not.ToHaveTextAsync("$0.00");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Live grain and silo statistics" })).ToHaveAttributeAsync("href", "/dashboard/");
        await ConsoleFixture.ScreenshotAsync(page, "01-overview");

        await row.GetByRole(AriaRole.Link, new() { Name = appId }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/console/apps/{appId}$"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_the_approvals_waiting_as_the_api_counts_them_and_no_dashboard_link()
    {
        using var response = await fixture.FrontDoor.AdminAsync(HttpMethod.Get, "admin/approvals", token: FrontDoorFixture.ViewerToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var waiting = json.RootElement.GetArrayLength();

        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, "/");

        var figure = page.Locator(".stat").Filter(new() { HasText = "Approvals waiting" });
        await Expect(figure.GetByRole(AriaRole.Link)).ToHaveTextAsync(waiting.ToString(CultureInfo.InvariantCulture));
        await Expect(figure.GetByRole(AriaRole.Link)).ToHaveAttributeAsync("href", "/console/approvals");
        var approvals = page.Locator("section").Filter(new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Approvals waiting" }) });
        if (waiting == 0)
        {
            await Expect(approvals).ToContainTextAsync("Nothing is waiting for approval.");
        }
        else
        {
            await Expect(approvals).ToContainTextAsync($"{waiting} version");
        }

        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Silos" })).ToContainTextAsync("active");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Live grain and silo statistics" })).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Overview_fits_a_phone_without_horizontal_overflow()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken, ConsoleFixture.Phone);
        await ConsoleFixture.GoToAsync(page, "/");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Silos" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Silos" })).ToContainTextAsync("active");

        await ConsoleFixture.AssertFitsAsync(page, "the overview");
        await ConsoleFixture.ScreenshotAsync(page, "01-overview-phone");
        await page.Context.CloseAsync();
    }

    /// <summary>
    /// A premium call with a long prompt (about $10 on the fixture's prices), so the fresh app is among the month's top
    /// apps, on a budget whose alert threshold (0.1% of $1,000) the call crosses. Returns the budget id.
    /// </summary>
    private async Task<string> CallPremiumAsync(string appId)
    {
        var key = await fixture.FrontDoor.CreateAppWithKeyAsync(appId, allowedTiers: ["premium"], budgetLimitUsd: 1000m);
        using var app = await fixture.FrontDoor.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        using var appJson = JsonDocument.Parse(await app.Content.ReadAsStringAsync());
        var budgetId = appJson.RootElement.GetProperty("budgetId").GetString()!;
        using (var budget = await fixture.FrontDoor.AdminAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 1000m, period = "day", thresholds = new[] { 0.001m } }))
        {
            Assert.True(budget.IsSuccessStatusCode, $"PUT budget: {(int)budget.StatusCode} {await budget.Content.ReadAsStringAsync()}");
        }

        var prompt = string.Join(' ', Enumerable.Repeat("overview", 2000));
        var requestId = "ovw-" + Guid.NewGuid().ToString("N")[..12];
        using (var chat = await fixture.FrontDoor.PostChatAsync(key, FrontDoorFixture.ChatBody("premium", prompt, maxTokens: 50), requestId))
        {
            Assert.True(chat.StatusCode == HttpStatusCode.OK, $"chat: {(int)chat.StatusCode} {await chat.Content.ReadAsStringAsync()}");
        }

        await fixture.FrontDoor.WaitForTraceAsync(appId, requestId);
        return budgetId;
    }

    /// <summary>The app's spend this month as GET /admin/cost/summary answers it, once the app is among the top 10.</summary>
    private async Task<decimal> WaitForMonthSpendAsync(string appId)
    {
        var now = DateTimeOffset.UtcNow;
        var from = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var path = $"admin/cost/summary?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"))}&top=10";
            using var response = await fixture.FrontDoor.AdminAsync(HttpMethod.Get, path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"cost summary: {(int)response.StatusCode} {body}");
            using var json = JsonDocument.Parse(body);
            foreach (var app in json.RootElement.GetProperty("topApps").EnumerateArray())
            {
                if (app.GetProperty("key").GetString() == appId && app.GetProperty("costUsd").GetDecimal() > 0)
                {
                    return app.GetProperty("costUsd").GetDecimal();
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"{appId} was not among the month's top apps within 30 s: {body}");
            await Task.Yield();
        }
    }

    private async Task WaitForAlertAsync(string budgetId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await fixture.FrontDoor.AdminAsync(HttpMethod.Get, $"admin/alerts?budgetId={Uri.EscapeDataString(budgetId)}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"alerts: {(int)response.StatusCode} {body}");
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.GetArrayLength() > 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no alert of {budgetId} within 30 s");
            await Task.Yield();
        }
    }
}
