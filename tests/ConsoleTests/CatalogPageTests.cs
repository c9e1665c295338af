using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MicroApps.Orleans.ConsoleTests;

/// <summary>
/// The catalog pages: the list with its filters, reuse rate and retirement candidates; an entry's versions and parameters;
/// and creating an app from a template through the form generated from its parameter specs, then submitting it.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class CatalogPageTests(ConsoleFixture fixture)
{
    // The catalog's figures read every app and the cost roll-ups; on a loaded machine an answer can take longer than the
    // 5 s default of an expectation, so waits that follow a call to the admin API get this much.
    private const float ApiWait = 30_000;

    /// <summary>A full-page screenshot from the top, so the sticky top bar is where it belongs.</summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await ConsoleFixture.ScreenshotAsync(page, name);
    }

    private static ILocator Field(IPage page, string name) =>
        page.Locator($"[data-field='{name}']").Locator("input, textarea, select");

    private static ILocator FieldError(IPage page, string name) =>
        page.Locator($"[data-field='{name}'] .field-error");

    private static ILocator Entries(IPage page) => page.GetByRole(AriaRole.Table, new() { Name = "Catalog entries" });

    private const string TestInput = "The invoice backlog grew in March and the finance team will automate invoice approval.";

    [Fact]
    public async Task An_author_creates_an_app_from_the_summarizer_template_through_the_form_and_submits_it()
    {
        var appId = FrontDoorFixture.NewAppId("cat");
        var page = await fixture.SignInAsync(FrontDoorFixture.AuthorToken);
        await ConsoleFixture.GoToAsync(page, "/catalog/templates/summarizer", ApiWait);

        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Parameters" })).ToContainTextAsync("chunkTokens");
        await ScreenshotAsync(page, "08-template");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create an app from this template" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/console/catalog/templates/summarizer/new\\?version=1\\.0\\.0$"));
        await Expect(page.Locator("main .loading")).ToHaveCountAsync(0, new() { Timeout = ApiWait });
        await Expect(page.Locator("main h1")).ToHaveTextAsync("New app from summarizer");
        // Authors create apps they own: the owner is them and cannot be changed here.
        await Expect(Field(page, "owner")).ToHaveValueAsync(FrontDoorFixture.AuthorName);
        await Expect(Field(page, "owner")).ToHaveAttributeAsync("readonly", "");
        // The form is generated from the parameter specs: input type by parameter type, defaults as placeholders.
        await Expect(Field(page, "parameters.chunkTokens")).ToHaveAttributeAsync("type", "number");
        await Expect(Field(page, "parameters.chunkTokens")).ToHaveAttributeAsync("placeholder", "1500");
        await Expect(page.Locator("[data-field='parameters.chunkTokens'] .help")).ToContainTextAsync("Default: 1500.");

        await page.GetByLabel("App id", new() { Exact = true }).FillAsync(appId);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Invoice summaries");
        await page.GetByLabel("Team", new() { Exact = true }).FillAsync("finance");
        await page.GetByLabel("Allowed tiers", new() { Exact = true }).FillAsync("local, standard");
        await page.GetByLabel("Default tier", new() { Exact = true }).FillAsync("local");
        await page.GetByLabel("Budget limit (USD)", new() { Exact = true }).FillAsync("5");
        await page.GetByLabel("Expected calls a month", new() { Exact = true }).FillAsync("1000");
        await page.GetByLabel("instructions", new() { Exact = true }).FillAsync("Summarise the invoice in two sentences.");
        await page.GetByLabel("tier", new() { Exact = true }).FillAsync("local");
        await page.GetByLabel("maxOutputTokens", new() { Exact = true }).FillAsync("120");
        await page.GetByLabel("Test input", new() { Exact = true }).FillAsync(TestInput);
        await page.GetByLabel("The answer must contain", new() { Exact = true }).FillAsync("invoice");
        await ScreenshotAsync(page, "08-create-app-form");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create app" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "App created" })).ToBeVisibleAsync(new() { Timeout = ApiWait });
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = $"Open {appId}" })).ToHaveAttributeAsync("href", $"/console/apps/{appId}");

        var app = await fixture.AdminJsonAsync($"admin/apps/{appId}");
        Assert.Equal("summarizer@1.0.0", app.GetProperty("template").GetString());
        Assert.Equal(FrontDoorFixture.AuthorName, app.GetProperty("owner").GetString());
        Assert.Equal("finance", app.GetProperty("team").GetString());
        Assert.Equal(new[] { "local", "standard" }, app.GetProperty("allowedTiers").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Equal("local", app.GetProperty("defaultTier").GetString());
        Assert.Equal(5m, app.GetProperty("limitUsd").GetDecimal());
        Assert.Equal(1000, app.GetProperty("expectedCallsPerMonth").GetInt64());
        var parameters = app.GetProperty("parameters");
        Assert.Equal("Summarise the invoice in two sentences.", parameters.GetProperty("instructions").GetString());
        Assert.Equal("local", parameters.GetProperty("tier").GetString());
        Assert.Equal("120", parameters.GetProperty("maxOutputTokens").GetString());
        Assert.False(parameters.TryGetProperty("chunkTokens", out _), "a parameter left empty is not sent: the template's default applies");
        var test = Assert.Single(app.GetProperty("tests").EnumerateArray());
        Assert.Equal("smoke", test.GetProperty("name").GetString());
        Assert.Equal(TestInput, test.GetProperty("input").GetString());
        var assertion = Assert.Single(test.GetProperty("assertions").EnumerateArray());
        Assert.Equal("contains", assertion.GetProperty("kind").GetString());
        Assert.Equal("invoice", assertion.GetProperty("value").GetString());
        Assert.Equal("draft", (await fixture.AdminJsonAsync($"admin/apps/{appId}/versions/1")).GetProperty("state").GetString());

        await page.GetByRole(AriaRole.Button, new() { Name = "Submit for approval" }).ClickAsync();

        var gates = page.GetByRole(AriaRole.Table, new() { Name = "Gate results" });
        await Expect(gates).ToBeVisibleAsync(new() { Timeout = ApiWait });
        var version = await fixture.AdminJsonAsync($"admin/apps/{appId}/versions/1");
        Assert.NotEqual(0, version.GetProperty("gates").GetArrayLength());
        foreach (var gate in version.GetProperty("gates").EnumerateArray())
        {
            await Expect(gates).ToContainTextAsync(gate.GetProperty("gate").GetString()!);
        }

        // An internal app whose test passes through the template (the local extractive model keeps "invoice") needs no approver.
        Assert.True(version.GetProperty("state").GetString() == "approved", version.ToString());
        await Expect(page.Locator("main").GetByRole(AriaRole.Status).Filter(new() { HasText = "approved automatically" })).ToBeVisibleAsync();
        await Expect(gates.GetByText("failed")).ToHaveCountAsync(0);

        await ScreenshotAsync(page, "08-create-app");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_bad_app_id_and_a_missing_required_parameter_are_shown_next_to_their_fields_and_create_nothing()
    {
        var appId = FrontDoorFixture.NewAppId("cat");
        var page = await fixture.SignInAsync(FrontDoorFixture.AuthorToken);
        await ConsoleFixture.GoToAsync(page, "/catalog/templates/approvals-bot/new", ApiWait);

        await Expect(page.Locator("[data-field='parameters.approvers'] .req")).ToHaveTextAsync("*");
        await Expect(Field(page, "parameters.approvers")).ToHaveAttributeAsync("aria-required", "true");
        await page.GetByLabel("App id", new() { Exact = true }).FillAsync("Bad_Id!");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Expense approvals");
        await page.GetByLabel("Team", new() { Exact = true }).FillAsync("finance");
        await page.GetByLabel("instructions", new() { Exact = true }).FillAsync("Approve expenses under 100 USD with a receipt.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create app" }).ClickAsync();

        await Expect(FieldError(page, "appId")).ToContainTextAsync("lower-case letters", new() { Timeout = ApiWait });
        await Expect(Field(page, "appId")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("appId");

        // The id fixed, the API names the next problem: the approvers the template requires.
        await page.GetByLabel("App id", new() { Exact = true }).FillAsync(appId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create app" }).ClickAsync();

        await Expect(FieldError(page, "parameters.approvers")).ToContainTextAsync("Required", new() { Timeout = ApiWait });
        await Expect(FieldError(page, "appId")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("parameters.approvers");
        await Expect(Field(page, "parameters.approvers")).ToBeFocusedAsync();
        await ScreenshotAsync(page, "08-create-app-errors");

        using var missing = await fixture.FrontDoor.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var invalid = await fixture.FrontDoor.AdminAsync(HttpMethod.Get, "admin/apps/bad-id");
        Assert.Equal(HttpStatusCode.NotFound, invalid.StatusCode);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Validate_checks_the_form_with_the_api_without_creating_the_app()
    {
        var appId = FrontDoorFixture.NewAppId("cat");
        var page = await fixture.SignInAsync(FrontDoorFixture.AuthorToken);
        await ConsoleFixture.GoToAsync(page, "/catalog/templates/chat-assistant/new", ApiWait);

        await page.GetByLabel("App id", new() { Exact = true }).FillAsync(appId);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Help desk");
        await page.GetByLabel("Team", new() { Exact = true }).FillAsync("support");
        await page.GetByLabel("maxOutputTokens", new() { Exact = true }).FillAsync("99999");
        await page.GetByRole(AriaRole.Button, new() { Name = "Validate" }).ClickAsync();

        await Expect(FieldError(page, "parameters.systemPrompt")).ToContainTextAsync("Required", new() { Timeout = ApiWait });
        await Expect(FieldError(page, "parameters.maxOutputTokens")).ToBeVisibleAsync();

        await page.GetByLabel("systemPrompt", new() { Exact = true }).FillAsync("Answer questions about the help desk.");
        await page.GetByLabel("maxOutputTokens", new() { Exact = true }).FillAsync("256");
        await page.GetByRole(AriaRole.Button, new() { Name = "Validate" }).ClickAsync();

        await Expect(page.Locator("main").GetByRole(AriaRole.Status)).ToContainTextAsync("The manifest is valid", new() { Timeout = ApiWait });
        await Expect(page.Locator("[data-field] .field-error")).ToHaveCountAsync(0);
        using var missing = await fixture.FrontDoor.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Search_kind_and_tag_filters_narrow_the_list_and_stay_in_the_url()
    {
        var tag = $"t{Guid.NewGuid():N}"[..12];
        var prompt = $"voice-{Guid.NewGuid():N}"[..16];
        using (var published = await fixture.FrontDoor.AdminAsync(HttpMethod.Post, "admin/catalog/prompts", new
        {
            name = prompt,
            version = "1.0.0",
            description = "A tone of voice for catalog page tests",
            tags = new[] { tag },
            text = "Write for {{audience}}.",
        }))
        {
            Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        }

        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, "/catalog", ApiWait);
        await Expect(Entries(page)).ToContainTextAsync("summarizer");
        await Expect(Entries(page)).ToContainTextAsync("http-json");
        await Expect(page.GetByText("Reuse rate (apps)")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Retirement candidates" })).ToBeVisibleAsync();
        await ScreenshotAsync(page, "07-catalog");

        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search" }).FillAsync("summar");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/catalog\\?search=summar$"));
        await Expect(page.Locator("main .loading")).ToHaveCountAsync(0, new() { Timeout = ApiWait });
        await Expect(Entries(page)).ToContainTextAsync("summarizer");
        await Expect(Entries(page)).Not.ToContainTextAsync("http-json");

        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search" }).FillAsync("");
        await page.GetByLabel("Kind").SelectOptionAsync("connector");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/console/catalog\\?kind=connector$"));
        await Expect(page.Locator("main .loading")).ToHaveCountAsync(0, new() { Timeout = ApiWait });
        await Expect(Entries(page)).ToContainTextAsync("http-json");
        await Expect(Entries(page)).Not.ToContainTextAsync("summarizer");

        // A bookmarked tag filter: only the prompt carrying the tag, and its tag links back to the same filter.
        await ConsoleFixture.GoToAsync(page, $"/catalog?tag={tag}", ApiWait);
        await Expect(Entries(page).Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(Entries(page)).ToContainTextAsync(prompt);
        await Entries(page).GetByRole(AriaRole.Link, new() { Name = prompt }).ClickAsync();
        await Expect(page.Locator("main h1")).ToHaveTextAsync(prompt, new() { Timeout = ApiWait });
        await Expect(page.Locator("main pre")).ToContainTextAsync("Write for {{audience}}.");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Parameters" })).ToContainTextAsync("audience");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Retirement_candidates_link_to_their_apps_with_the_criteria_in_the_url()
    {
        var appId = FrontDoorFixture.NewAppId("cat");
        using (var created = await fixture.FrontDoor.AdminAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Quiet app",
            owner = FrontDoorFixture.AuthorName,
            team = "ops",
            allowedTiers = new[] { "local" },
            template = "summarizer@1.0.0",
            parameters = new { tier = "local" },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, "/catalog", ApiWait);
        var candidates = page.GetByRole(AriaRole.Table, new() { Name = "Retirement candidates" });

        // With no cost floor, an app without calls is little used at no less than the floor: a candidate.
        await page.GetByLabel("Min cost (USD)").FillAsync("0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("minCostUsd=0"));
        await Expect(page.Locator("main .loading")).ToHaveCountAsync(0, new() { Timeout = ApiWait });
        await Expect(candidates.GetByRole(AriaRole.Link, new() { Name = appId })).ToHaveAttributeAsync("href", $"/console/apps/{appId}");

        var report = await fixture.AdminJsonAsync("admin/catalog/retirement?minCostUsd=0");
        Assert.Contains(report.GetProperty("candidates").EnumerateArray(), c => c.GetProperty("appId").GetString() == appId);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_the_create_button_and_the_form_disabled()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, "/catalog/templates/summarizer", ApiWait);

        var create = page.GetByRole(AriaRole.Button, new() { Name = "Create an app from this template" });
        await Expect(create).ToBeDisabledAsync();
        await Expect(create).ToHaveAttributeAsync("title", new Regex("needs author or admin"));

        await ConsoleFixture.GoToAsync(page, "/catalog/templates/summarizer/new", ApiWait);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Create app" })).ToBeDisabledAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Validate" })).ToBeDisabledAsync();
        await Expect(page.GetByRole(AriaRole.Note)).ToContainTextAsync("creating an app needs author or admin");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_catalog_and_the_create_form_fit_a_phone_without_sideways_scrolling()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AuthorToken, ConsoleFixture.Phone);
        foreach (var path in new[] { "/catalog", "/catalog/templates/approvals-bot", "/catalog/templates/approvals-bot/new" })
        {
            await ConsoleFixture.GoToAsync(page, path, ApiWait);
            if (path == "/catalog")
            {
                await Expect(Entries(page)).ToContainTextAsync("approvals-bot");
                await ScreenshotAsync(page, "07-catalog-phone");
            }

            await ConsoleFixture.AssertFitsAsync(page, $"{path}");
        }

        await page.Context.CloseAsync();
    }
}
