using System.Net;
using System.Text.RegularExpressions;

namespace MicroApps.Orleans.ConsoleTests;

/// <summary>The apps list and an app's page: what they show from the admin API and the actions they run through it.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class AppsPageTests(ConsoleFixture fixture)
{
    private FrontDoorFixture FrontDoor => fixture.FrontDoor;

    private static ILocator AppRow(IPage page, string appId) =>
        page.GetByRole(AriaRole.Table, new() { Name = "Apps" }).GetByRole(AriaRole.Row).Filter(new() { HasText = appId });

    private static ILocator Section(IPage page, string heading) =>
        page.Locator("section.card").Filter(new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = heading, Exact = true }) });

    private async Task AdminOkAsync(HttpMethod method, string path, object? body, HttpStatusCode expected, string token = FrontDoorFixture.AdminToken)
    {
        using var response = await FrontDoor.AdminAsync(method, path, body, token);
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>A published v1 (owned by the author, internal, local tier, a regression test that passes) and a draft v2.</summary>
    private async Task<string> PublishedAppWithDraftV2Async()
    {
        var appId = FrontDoorFixture.NewAppId("capp");
        await AdminOkAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Release app",
            owner = FrontDoorFixture.AuthorName,
            team = "console-tests",
            audience = "internal",
            allowedTiers = new[] { "local" },
            defaultTier = "local",
            quotas = new { requestsPerMinute = 30, tokensPerDay = 100_000 },
            budget = new { limitUsd = 10m, period = "day" },
            tests = new[]
            {
                new
                {
                    name = "mentions-invoices",
                    input = "The invoice backlog grew in March and the finance team will automate invoice approval.",
                    assertions = new[] { new { kind = "contains", value = "invoice" } },
                },
            },
            initialState = "published",
        }, HttpStatusCode.Created);
        await AdminOkAsync(HttpMethod.Post, $"admin/apps/{appId}/versions", new { promptVersion = "v2" }, HttpStatusCode.Created, FrontDoorFixture.AuthorToken);
        return appId;
    }

    [Fact]
    public async Task The_apps_list_shows_a_fresh_app_with_its_version_and_budget_gauge_and_filters_by_the_url()
    {
        var appId = FrontDoorFixture.NewAppId("capp");
        var other = FrontDoorFixture.NewAppId("cother");
        await FrontDoor.CreateAppWithKeyAsync(appId, budgetLimitUsd: 25m);
        await FrontDoor.CreateAppWithKeyAsync(other);
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);

        await ConsoleFixture.GoToAsync(page, "/apps");
        var row = AppRow(page, appId);
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("v1");
        await Expect(row).ToContainTextAsync("active");
        await Expect(row).ToContainTextAsync("frontdoor-tests");
        await Expect(row.GetByRole(AriaRole.Meter, new() { Name = "Budget used" })).ToHaveAttributeAsync("aria-valuemax", "25");
        await Expect(AppRow(page, other)).ToHaveCountAsync(1);
        await ConsoleFixture.ScreenshotAsync(page, "02-apps");

        // The filter lives in the URL, so a filtered list is bookmarkable.
        await page.GetByLabel("Filter by id, name, team or owner").FillAsync(appId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/console/apps\\?q={appId}$"));
        await Expect(AppRow(page, appId)).ToHaveCountAsync(1);
        await Expect(AppRow(page, other)).ToHaveCountAsync(0);

        await ConsoleFixture.GoToAsync(page, "/apps?q=no-app-has-this-text");
        await Expect(page.GetByRole(AriaRole.Note)).ToContainTextAsync("No app matches no-app-has-this-text");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Create an app from a template" })).ToHaveAttributeAsync("href", "/console/catalog");

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_key_issued_in_the_console_calls_the_front_door_shows_its_call_and_spend_and_revoking_it_refuses_the_next_call()
    {
        var appId = FrontDoorFixture.NewAppId("capp");
        await FrontDoor.CreateAppWithKeyAsync(appId);
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, $"/apps/{appId}");
        var keys = Section(page, "Keys");
        await Expect(Section(page, "Recent calls")).ToContainTextAsync("No calls in the past week.");

        await keys.GetByLabel("Label of the new key").FillAsync("console key");
        await keys.GetByRole(AriaRole.Button, new() { Name = "Issue key" }).ClickAsync();
        var shown = page.GetByLabel("New API key");
        await Expect(shown).ToHaveValueAsync(new Regex($"^mak\\.{appId}\\."));
        await Expect(page.Locator(".new-key")).ToContainTextAsync("shown only this once");
        await ConsoleFixture.ScreenshotAsync(page, "03-app-new-key");
        var apiKey = await shown.InputValueAsync();
        var keyId = apiKey.Split('.')[2];
        await Expect(keys.GetByRole(AriaRole.Row).Filter(new() { HasText = keyId })).ToContainTextAsync("console key");

        var requestId = $"console-{Guid.NewGuid():N}";
        using (var call = await FrontDoor.PostChatAsync(apiKey, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "Hello from the console test"), requestId))
        {
            Assert.True(call.StatusCode == HttpStatusCode.OK, $"chat: {(int)call.StatusCode} {await call.Content.ReadAsStringAsync()}");
        }

        // The trace is written after the answer: wait until the admin API has it, then the page (which reads the same API) shows it.
        var trace = await FrontDoor.WaitForTraceAsync(appId, requestId);
        var cost = ConsoleFixture.Money(trace.GetProperty("costActualUsd").GetDecimal());
        Assert.NotEqual("$0.00", cost);
        await ConsoleFixture.GoToAsync(page, $"/apps/{appId}");
        var calls = Section(page, "Recent calls");
        var traceLink = calls.Locator($"a[href='/console/telemetry/traces/{appId}/{requestId}']");
        await Expect(traceLink).ToBeVisibleAsync();
        var callRow = calls.GetByRole(AriaRole.Row).Filter(new() { Has = page.Locator($"a[href='/console/telemetry/traces/{appId}/{requestId}']") });
        await Expect(callRow).ToContainTextAsync(FrontDoorFixture.StandardModel);
        await Expect(callRow).ToContainTextAsync("standard");
        await Expect(callRow).ToContainTextAsync("success");
        await Expect(callRow).ToContainTextAsync(cost);

        // The app's own budget: its only call is this one.
        await Expect(Section(page, "Spend").Locator(".spent")).ToHaveTextAsync(cost);
        await Expect(page.GetByLabel("New API key")).ToHaveCountAsync(0);
        await ConsoleFixture.ScreenshotAsync(page, "03-app-calls");

        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await Section(page, "Keys").GetByRole(AriaRole.Button, new() { Name = $"Revoke {keyId}" }).ClickAsync();
        await Expect(Section(page, "Keys").GetByRole(AriaRole.Row).Filter(new() { HasText = keyId })).ToContainTextAsync("revoked");

        using (var refused = await FrontDoor.PostChatAsync(apiKey, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "Hello again")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Submit_canary_promote_and_rollback_in_the_console_change_the_current_version_and_a_refusal_is_shown_beside_the_action()
    {
        var appId = await PublishedAppWithDraftV2Async();
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, $"/apps/{appId}");
        var versions = Section(page, "Versions");
        var current = versions.Locator(".current-version");
        await Expect(current).ToHaveTextAsync("v1");

        await versions.GetByRole(AriaRole.Button, new() { Name = "Submit v2" }).ClickAsync();
        var v2 = versions.GetByRole(AriaRole.Row).Filter(new() { Has = page.GetByRole(AriaRole.Button, new() { Name = "Start canary v2" }) });
        await Expect(v2).ToContainTextAsync("approved");
        await Expect(v2).ToContainTextAsync("regression_tests ✓");

        await versions.GetByLabel("Canary share of v2 (%)").FillAsync("25");
        await versions.GetByRole(AriaRole.Button, new() { Name = "Start canary v2" }).ClickAsync();
        await Expect(versions).ToContainTextAsync("canary v2 takes 25% of production callers");
        await Expect(current).ToHaveTextAsync("v1");

        await versions.GetByRole(AriaRole.Button, new() { Name = "Promote v2" }).ClickAsync();
        await Expect(current).ToHaveTextAsync("v2");
        await ConsoleFixture.ScreenshotAsync(page, "03-app");

        await versions.GetByLabel("Reason for the rollback").FillAsync("answers got worse");
        await versions.GetByRole(AriaRole.Button, new() { Name = "Roll back v2" }).ClickAsync();
        await Expect(current).ToHaveTextAsync("v1");

        // v1 superseded nothing: the API refuses to roll it back, and the page says so next to the form.
        await versions.GetByLabel("Reason for the rollback").FillAsync("try once more");
        await versions.GetByRole(AriaRole.Button, new() { Name = "Roll back v1" }).ClickAsync();
        await Expect(versions.GetByRole(AriaRole.Alert)).ToContainTextAsync("Transition refused");
        await Expect(current).ToHaveTextAsync("v1");

        using var app = await FrontDoor.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        Assert.Contains("\"publishedVersion\":1", await app.Content.ReadAsStringAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_the_app_and_its_actions_disabled()
    {
        var appId = await PublishedAppWithDraftV2Async();
        var apiKey = await FrontDoor.IssueKeyAsync(appId);
        var keyId = apiKey.Split('.')[2];
        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, $"/apps/{appId}");

        await Expect(page.Locator("main h1")).ToHaveTextAsync("Release app");
        await Expect(page.Locator("pre.manifest")).ToContainTextAsync($"appId: {appId}");
        foreach (var name in new[] { "Suspend", "Submit v2", "Issue key", $"Revoke {keyId}", "Save quotas", "Roll back v1" })
        {
            var button = page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });
            await Expect(button).ToBeDisabledAsync();
            await Expect(button).ToHaveAttributeAsync("title", new Regex("Your role \\(viewer\\) cannot do this"));
        }

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_suspends_and_resumes_an_app_and_its_keys_are_refused_meanwhile()
    {
        var appId = FrontDoorFixture.NewAppId("capp");
        var apiKey = await FrontDoor.CreateAppWithKeyAsync(appId);
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, $"/apps/{appId}");

        await page.GetByRole(AriaRole.Button, new() { Name = "Suspend", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Resume", Exact = true })).ToBeVisibleAsync();
        await Expect(page.Locator(".page-header")).ToContainTextAsync("suspended");
        using (var refused = await FrontDoor.PostChatAsync(apiKey, FrontDoorFixture.ChatBody(FrontDoorFixture.LocalModel, "Summarize: suspended")))
        {
            Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Suspend", Exact = true })).ToBeVisibleAsync();
        using (var served = await FrontDoor.PostChatAsync(apiKey, FrontDoorFixture.ChatBody(FrontDoorFixture.LocalModel, "Summarize: resumed")))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_edits_the_quotas_and_the_page_shows_them()
    {
        var appId = FrontDoorFixture.NewAppId("capp");
        await FrontDoor.CreateAppWithKeyAsync(appId);
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, $"/apps/{appId}");

        var quotas = Section(page, "Quotas");
        await quotas.GetByLabel("Requests per minute").FillAsync("42");
        await quotas.GetByLabel("Tokens per day").FillAsync("5000");
        await quotas.GetByRole(AriaRole.Button, new() { Name = "Save quotas" }).ClickAsync();

        await Expect(page.Locator(".app-summary")).ToContainTextAsync("42/min");
        await Expect(page.Locator(".app-summary")).ToContainTextAsync("5,000 tokens/day");
        using var app = await FrontDoor.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        Assert.Contains("\"requestsPerMinute\":42", await app.Content.ReadAsStringAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_apps_list_and_an_app_page_fit_a_phone()
    {
        var appId = await PublishedAppWithDraftV2Async();
        await FrontDoor.IssueKeyAsync(appId);
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken, ConsoleFixture.Phone);

        await ConsoleFixture.GoToAsync(page, "/apps");
        await Expect(AppRow(page, appId)).ToHaveCountAsync(1);
        await ConsoleFixture.AssertFitsAsync(page, "the apps list");
        await ConsoleFixture.ScreenshotAsync(page, "02-apps-phone");

        await ConsoleFixture.GoToAsync(page, $"/apps/{appId}");
        await Expect(page.Locator("pre.manifest")).ToBeVisibleAsync();
        await ConsoleFixture.AssertFitsAsync(page, "the app page");
        await ConsoleFixture.ScreenshotAsync(page, "03-app-phone");
        await page.Context.CloseAsync();
    }
}
