using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MicroApps.Orleans.ConsoleTests;

/// <summary>The budgets and cost pages: figures as the admin API counts them, the chart, and editing a budget.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class CostPageTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task The_cost_page_shows_an_apps_spend_as_the_api_counts_it_and_draws_the_chart()
    {
        var appId = FrontDoorFixture.NewAppId("cost");
        var spent = await CallAndWaitForSpendAsync(appId);
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);

        await ConsoleFixture.GoToAsync(page, "/cost?groupBy=app&range=7d&granularity=day");

        var row = page.GetByRole(AriaRole.Table, new() { Name = "Spend by app" }).GetByRole(AriaRole.Row).Filter(new() { HasText = appId });
        await Expect(row.Locator("td[data-label='Spend']")).ToHaveTextAsync(ConsoleFixture.Money(spent));
        await Expect(row.Locator("td[data-label='Requests']")).ToHaveTextAsync("1");

        // Chart.js came from /console/lib and drew on a canvas that has a size.
        await page.WaitForFunctionAsync(
            "() => { const c = document.querySelector('main canvas'); return !!(window.Chart && c && window.Chart.getChart(c) && c.width > 0 && c.height > 0); }");
        Assert.True(await page.EvaluateAsync<bool>(
            "() => [...document.scripts].some(s => new URL(s.src, location.href).pathname === '/console/lib/chart.js/chart.umd.min.js')"));
        var datasetLabels = await page.EvaluateAsync<string[]>(
            "() => window.Chart.getChart(document.querySelector('main canvas')).data.datasets.map(d => d.label)");
        Assert.Contains(datasetLabels, l => l == appId || l.EndsWith(" others", StringComparison.Ordinal));

        // Its budget is listed with a link to its own page.
        var budgets = page.GetByRole(AriaRole.Table, new() { Name = "Budgets" });
        await Expect(budgets.GetByRole(AriaRole.Link, new() { Name = $"app:{appId}", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Savings by kind" })).ToContainTextAsync("Near-duplicate");
        await Expect(page.GetByText("Mean time to publish")).ToBeVisibleAsync();
        await Expect(page.Locator(".stat:has(> .label:text-is('Month-end projection')) > .value")).ToHaveTextAsync(new Regex(@"^\$\d"));
        await ConsoleFixture.ScreenshotAsync(page, "09-cost");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Choosing_a_grouping_puts_it_in_the_url_and_groups_the_table_by_it()
    {
        var appId = FrontDoorFixture.NewAppId("costg");
        await CallAndWaitForSpendAsync(appId);
        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, "/cost");

        await page.GetByLabel("Group by").SelectOptionAsync("team");

        await Expect(page).ToHaveURLAsync(new Regex("groupBy=team"));
        var table = page.GetByRole(AriaRole.Table, new() { Name = "Spend by team" });
        await Expect(table.GetByRole(AriaRole.Row).Filter(new() { HasText = "frontdoor-tests" })).ToHaveCountAsync(1);
        await Expect(table).Not.ToContainTextAsync(appId);

        await page.GetByLabel("Interval").SelectOptionAsync("hour");
        await Expect(page).ToHaveURLAsync(new Regex("granularity=hour"));
        await page.GetByText("The chart's figures: spend per hour").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Spend per hour by team" })).ToHaveCountAsync(1);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_changes_a_budget_limit_in_the_console_and_the_api_and_audit_log_show_it()
    {
        var appId = FrontDoorFixture.NewAppId("costb");
        await fixture.FrontDoor.CreateAppWithKeyAsync(appId, budgetLimitUsd: 100m);
        var budgetId = $"app:{appId}";
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, $"/cost/budgets/{budgetId}");
        await Expect(LimitStat(page)).ToHaveTextAsync("$100.00");

        await page.GetByLabel("Limit (USD)").FillAsync("42.5");
        await page.GetByLabel("Alert thresholds").FillAsync("0.5, 0.9, 1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save budget" }).ClickAsync();

        await Expect(LimitStat(page)).ToHaveTextAsync("$42.50");
        var budget = await fixture.AdminJsonAsync($"admin/budgets/{budgetId}");
        Assert.Equal(42.5m, budget.GetProperty("limitUsd").GetDecimal());
        Assert.Equal("day", budget.GetProperty("period").GetString());
        Assert.Equal([0.5m, 0.9m, 1m], budget.GetProperty("thresholds").EnumerateArray().Select(t => t.GetDecimal()).ToArray());

        var audit = await fixture.AdminJsonAsync($"admin/audit?action=budget.configured&target={Uri.EscapeDataString("budget:" + budgetId)}");
        Assert.Contains(audit.GetProperty("entries").EnumerateArray(), e => e.GetProperty("reason").GetString()!.Contains("limitUsd=42.5", StringComparison.Ordinal));
        await ConsoleFixture.ScreenshotAsync(page, "10-budget");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_invalid_limit_shows_the_apis_field_error_next_to_the_field_and_changes_nothing()
    {
        var appId = FrontDoorFixture.NewAppId("costi");
        await fixture.FrontDoor.CreateAppWithKeyAsync(appId, budgetLimitUsd: 100m);
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, $"/cost/budgets/app:{appId}");

        await page.GetByLabel("Limit (USD)").FillAsync("-5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save budget" }).ClickAsync();

        await Expect(page.Locator("#budget-limitUsd-error")).ToHaveTextAsync("Must be 0 or more.");
        await Expect(page.GetByLabel("Limit (USD)")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByLabel("Period")).ToHaveAttributeAsync("aria-invalid", "false");

        await page.GetByLabel("Limit (USD)").FillAsync("ten dollars");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save budget" }).ClickAsync();
        await Expect(page.Locator("#budget-limitUsd-error")).ToContainTextAsync("'limitUsd' has the wrong type");

        var budget = await fixture.AdminJsonAsync($"admin/budgets/app:{appId}");
        Assert.Equal(100m, budget.GetProperty("limitUsd").GetDecimal());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_a_budget_but_its_edit_and_acknowledge_are_disabled()
    {
        var appId = FrontDoorFixture.NewAppId("costv");
        await fixture.FrontDoor.CreateAppWithKeyAsync(appId, budgetLimitUsd: 100m);
        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, $"/cost/budgets/app:{appId}");

        await Expect(LimitStat(page)).ToHaveTextAsync("$100.00");
        var save = page.GetByRole(AriaRole.Button, new() { Name = "Save budget" });
        await Expect(save).ToBeDisabledAsync();
        await Expect(save).ToHaveAttributeAsync("title", new Regex("needs admin"));
        await Expect(page.GetByLabel("Limit (USD)")).ToBeDisabledAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Acknowledge 100%" })).ToBeDisabledAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_cost_and_budget_pages_fit_a_phone_without_horizontal_overflow()
    {
        var appId = FrontDoorFixture.NewAppId("costp");
        await CallAndWaitForSpendAsync(appId);
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken, ConsoleFixture.Phone);

        await ConsoleFixture.GoToAsync(page, "/cost");
        await Expect(page.Locator("table[aria-label='Spend by app']")).ToContainTextAsync(appId);
        await page.WaitForFunctionAsync("() => { const c = document.querySelector('main canvas'); return !!(window.Chart && c && window.Chart.getChart(c)); }");
        await ConsoleFixture.AssertFitsAsync(page, "the cost page");
        await ConsoleFixture.ScreenshotAsync(page, "09-cost-phone");

        await ConsoleFixture.GoToAsync(page, $"/cost/budgets/app:{appId}");
        await Expect(page.GetByLabel("Limit (USD)")).ToBeVisibleAsync();
        await ConsoleFixture.AssertFitsAsync(page, "the budget page");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_budget_without_a_limit_says_so()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, $"/cost/budgets/app:{FrontDoorFixture.NewAppId("none")}");

        await Expect(page.GetByRole(AriaRole.Note)).ToContainTextAsync("has no limit configured");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_apps_owner_acknowledges_a_budget_at_100_percent_and_the_pending_limit_takes_effect()
    {
        var appId = FrontDoorFixture.NewAppId("costa");
        var budgetId = $"app:{appId}";
        var spent = await CallAndWaitForSpendAsync(appId, owner: FrontDoorFixture.AuthorName);

        // A limit below the spend puts the budget at 100% (alerts raised); a raised limit then waits for the owner.
        await PutBudgetAsync(budgetId, spent / 2);
        await PutBudgetAsync(budgetId, 100m);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await fixture.AdminJsonAsync($"admin/budgets/{budgetId}/alerts")).EnumerateArray().Any(a => a.GetProperty("threshold").GetDecimal() == 1m))
        {
            Assert.True(DateTime.UtcNow < deadline, "the 100% alert was not listed within 30 s");
            await Task.Yield();
        }

        var page = await fixture.SignInAsync(FrontDoorFixture.AuthorToken);
        await ConsoleFixture.GoToAsync(page, $"/cost/budgets/{budgetId}");
        await Expect(page.Locator(".stat:has(> .label:text-is('Limit'))")).ToContainTextAsync("$100.00 pending the owner’s acknowledgement");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Alerts" }).GetByRole(AriaRole.Row).Filter(new() { HasText = "100%" })).Not.ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Save budget" })).ToBeDisabledAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Acknowledge 100%" }).ClickAsync();

        await Expect(LimitStat(page)).ToHaveTextAsync("$100.00");
        await Expect(page.Locator("dl.budget-facts")).ToContainTextAsync(FrontDoorFixture.AuthorName);
        var budget = await fixture.AdminJsonAsync($"admin/budgets/{budgetId}");
        Assert.Equal(100m, budget.GetProperty("limitUsd").GetDecimal());
        Assert.Equal(FrontDoorFixture.AuthorName, budget.GetProperty("acknowledgedBy").GetString());
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Acknowledge 100%" })).ToBeDisabledAsync();
        await page.Context.CloseAsync();
    }

    private async Task PutBudgetAsync(string budgetId, decimal limitUsd)
    {
        using var response = await fixture.FrontDoor.AdminAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd, period = "day" });
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PUT budget: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static ILocator LimitStat(IPage page) => page.Locator(".stat:has(> .label:text-is('Limit')) > .value");

    /// <summary>Makes one real call for a fresh app and waits (with a deadline) until the cost API counts it; returns the app's spend.</summary>
    private async Task<decimal> CallAndWaitForSpendAsync(string appId, string owner = "tests@example.com")
    {
        var key = await fixture.FrontDoor.CreateAppWithKeyAsync(appId, owner: owner);
        var requestId = "cost-" + Guid.NewGuid().ToString("N")[..12];
        using (var answer = await fixture.FrontDoor.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "How much does this cost?"), requestId))
        {
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"chat: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
        }

        await fixture.FrontDoor.WaitForTraceAsync(appId, requestId);

        // The dashboard reuses an open hour's roll-up for a few seconds: poll until it includes the call.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var spend = await fixture.AdminJsonAsync("admin/cost/spend?groupBy=app");
            var group = spend.GetProperty("groups").EnumerateArray().FirstOrDefault(g => g.GetProperty("key").GetString() == appId);
            if (group.ValueKind == JsonValueKind.Object && group.GetProperty("total").GetProperty("costUsd").GetDecimal() is > 0m and var cost)
            {
                return cost;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the cost API did not count {appId}'s call within 30 s");
            await Task.Yield();
        }
    }
}
