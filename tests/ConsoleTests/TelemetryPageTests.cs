using System.Net;

namespace MicroApps.Orleans.ConsoleTests;

/// <summary>
/// The telemetry pages: trace search, one trace, the redacted prompt store. Every call is a real governed call through
/// the front door of a fresh app; the pages are compared with what the admin API answers for the same trace.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class TelemetryPageTests(ConsoleFixture fixture)
{
    private FrontDoorFixture FrontDoor => fixture.FrontDoor;

    [Fact]
    public async Task A_real_call_appears_in_the_search_of_its_app_and_its_trace_page_shows_the_route_and_policy_decisions()
    {
        var appId = FrontDoorFixture.NewAppId("tel");
        var key = await FrontDoor.CreateAppWithKeyAsync(appId);
        var requestId = await CallAsync(key, "Summarise the quarterly report.", HttpStatusCode.OK);
        var trace = await FrontDoor.WaitForTraceAsync(appId, requestId);
        var model = trace.GetProperty("model").GetString()!;
        var tier = trace.GetProperty("modelTier").GetString()!;
        var policy = trace.GetProperty("policy").GetString()!;
        var decisions = trace.GetProperty("decisions").EnumerateArray().Select(d => d.GetString()!).ToList();
        Assert.NotEmpty(decisions);

        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, $"/telemetry?app={appId}");
        var results = page.GetByRole(AriaRole.Table, new() { Name = "Traces" });
        var row = results.GetByRole(AriaRole.Row).Filter(new() { HasText = requestId });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync(model);
        await Expect(row).ToContainTextAsync(tier);
        await Expect(row).ToContainTextAsync("success");
        await Expect(page.GetByLabel("App", new() { Exact = true })).ToHaveValueAsync(appId);
        await ConsoleFixture.ScreenshotAsync(page, "13-telemetry");

        await row.GetByRole(AriaRole.Link, new() { Name = requestId }).ClickAsync();
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Trace");
        Assert.EndsWith($"/console/telemetry/traces/{appId}/{requestId}", page.Url);
        var route = page.GetByRole(AriaRole.Region, new() { Name = "Route" });
        await Expect(route).ToContainTextAsync(model);
        await Expect(route).ToContainTextAsync(tier);
        var policies = page.GetByRole(AriaRole.Region, new() { Name = "Policy decisions" });
        var (action, policyId) = (policy.Split(':')[0], policy[(policy.IndexOf(':') + 1)..]);
        await Expect(policies).ToContainTextAsync(action);
        await Expect(policies).ToContainTextAsync(policyId);

        // Every step of the pipeline, in the order the API lists them.
        var steps = page.GetByRole(AriaRole.List, new() { Name = "Pipeline decisions" }).GetByRole(AriaRole.Listitem);
        await Expect(steps).ToHaveTextAsync(decisions.ToArray());
        await ConsoleFixture.ScreenshotAsync(page, "14-trace");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_throttled_call_shows_its_outcome_and_error_code_in_the_search_and_on_its_trace()
    {
        var appId = FrontDoorFixture.NewAppId("thr");
        var key = await FrontDoor.CreateAppWithKeyAsync(appId, requestsPerMinute: 1);
        var admitted = await CallAsync(key, "The first call of the minute.", HttpStatusCode.OK);

        // Quota windows are calendar minutes: if the second call lands in the next minute it is admitted, and the
        // third cannot land in yet another one.
        var (second, status) = await TryCallAsync(key, "The second call of the minute.");
        var refused = status == HttpStatusCode.OK ? await CallAsync(key, "The third call.", HttpStatusCode.TooManyRequests) : second;
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"second call: {status}");
        await FrontDoor.WaitForTraceAsync(appId, admitted);
        var trace = await FrontDoor.WaitForTraceAsync(appId, refused);
        Assert.Equal("throttled", trace.GetProperty("outcome").GetString());
        var errorCode = trace.GetProperty("errorCode").GetString()!;
        Assert.False(string.IsNullOrEmpty(errorCode));

        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, $"/telemetry?app={appId}&outcome=throttled");
        var results = page.GetByRole(AriaRole.Table, new() { Name = "Traces" });
        var row = results.GetByRole(AriaRole.Row).Filter(new() { HasText = refused });
        await Expect(row).ToContainTextAsync("throttled");
        await Expect(row).ToContainTextAsync(errorCode);
        await Expect(results).Not.ToContainTextAsync(admitted);

        await ConsoleFixture.GoToAsync(page, $"/telemetry/traces/{appId}/{refused}");
        var stats = page.Locator(".trace-stats");
        await Expect(stats).ToContainTextAsync("throttled");
        await Expect(stats).ToContainTextAsync(errorCode);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_prompt_store_shows_a_sampled_prompt_redacted_and_never_the_email_address()
    {
        var appId = FrontDoorFixture.NewAppId("smp");
        using (var created = await FrontDoor.AdminAsync(HttpMethod.Post, "admin/apps", FrontDoorFixture.SampledAppBody(appId)))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        var key = await FrontDoor.IssueKeyAsync(appId);
        const string Email = "jane.doe@example.com";
        var marker = "walrus" + Guid.NewGuid().ToString("N")[..8];
        var requestId = await CallAsync(key, $"Customer {marker} asks for a refund, write back to {Email}.", HttpStatusCode.OK);
        await FrontDoor.WaitForTraceAsync(appId, requestId);

        var page = await fixture.SignInAsync(FrontDoorFixture.ApproverToken);
        await ConsoleFixture.GoToAsync(page, "/telemetry/prompts");
        await Expect(page.GetByRole(AriaRole.Note)).ToContainTextAsync("Enter text to find");
        await page.GetByLabel("Text to find").FillAsync(marker);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search prompts" }).ClickAsync();

        var samples = page.GetByRole(AriaRole.List, new() { Name = "Prompt samples" });
        await Expect(samples.GetByRole(AriaRole.Listitem)).ToHaveCountAsync(1);
        await Expect(samples).ToContainTextAsync(marker);
        await Expect(samples).ToContainTextAsync("[REDACTED:email]");
        await Expect(samples).ToContainTextAsync(appId);
        Assert.Contains($"q={marker}", page.Url);
        Assert.DoesNotContain(Email, await page.ContentAsync());
        await ConsoleFixture.ScreenshotAsync(page, "15-prompts");

        // The sample's link leads to its trace, which shows the same redacted sample.
        await samples.GetByRole(AriaRole.Link, new() { Name = "trace" }).ClickAsync();
        await Expect(page.Locator("main h1")).ToHaveTextAsync("Trace");
        var sample = page.GetByRole(AriaRole.Region, new() { Name = "Prompt sample" });
        await Expect(sample).ToContainTextAsync("[REDACTED:email]");
        await Expect(sample).ToContainTextAsync(marker);
        Assert.DoesNotContain(Email, await page.ContentAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Load_more_follows_the_continuation_token_until_every_call_is_shown()
    {
        var appId = FrontDoorFixture.NewAppId("pag");
        var key = await FrontDoor.CreateAppWithKeyAsync(appId);
        var requestIds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            requestIds.Add(await CallAsync(key, $"Call number {i}.", HttpStatusCode.OK));
        }

        foreach (var requestId in requestIds)
        {
            await FrontDoor.WaitForTraceAsync(appId, requestId);
        }

        var page = await fixture.SignInAsync(FrontDoorFixture.AuthorToken);
        await ConsoleFixture.GoToAsync(page, $"/telemetry?app={appId}&pageSize=2");
        var rows = page.GetByRole(AriaRole.Table, new() { Name = "Traces" }).Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        var more = page.GetByRole(AriaRole.Button, new() { Name = "Load more" });
        await more.ClickAsync();
        await Expect(rows).ToHaveCountAsync(3);
        await Expect(more).ToHaveCountAsync(0);
        foreach (var requestId in requestIds)
        {
            await Expect(rows.Filter(new() { HasText = requestId })).ToHaveCountAsync(1);
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_search_without_calls_says_so_and_an_author_is_told_the_prompt_store_is_not_theirs()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AuthorToken);
        await ConsoleFixture.GoToAsync(page, $"/telemetry?app={FrontDoorFixture.NewAppId("none")}&range=1h");
        await Expect(page.GetByRole(AriaRole.Note)).ToContainTextAsync("No calls in this range");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Traces" })).ToHaveCountAsync(0);

        await ConsoleFixture.GoToAsync(page, "/telemetry/prompts?q=anything");
        await Expect(page.GetByRole(AriaRole.Note)).ToContainTextAsync("Your role (author) does not read it");
        await Expect(page.GetByRole(AriaRole.List, new() { Name = "Prompt samples" })).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_bad_filter_shows_the_admin_apis_error_naming_the_field()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, "/telemetry?app=Not_An_App");
        var alert = page.GetByRole(AriaRole.Alert);
        await Expect(alert).ToContainTextAsync("appId");
        await Expect(page.GetByRole(AriaRole.Search, new() { Name = "Trace filters" })).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_search_and_trace_pages_fit_a_phone_without_horizontal_scrolling()
    {
        var appId = FrontDoorFixture.NewAppId("phn");
        var key = await FrontDoor.CreateAppWithKeyAsync(appId);
        var requestId = await CallAsync(key, "A call to look at on a phone.", HttpStatusCode.OK);
        await FrontDoor.WaitForTraceAsync(appId, requestId);

        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken, ConsoleFixture.Phone);
        await ConsoleFixture.GoToAsync(page, $"/telemetry?app={appId}");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Traces" })).ToContainTextAsync(requestId);
        await ConsoleFixture.AssertFitsAsync(page, "the trace search");
        await ConsoleFixture.ScreenshotAsync(page, "13-telemetry-phone");

        await ConsoleFixture.GoToAsync(page, $"/telemetry/traces/{appId}/{requestId}");
        await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Route" })).ToBeVisibleAsync();
        await ConsoleFixture.AssertFitsAsync(page, "the trace page");

        await ConsoleFixture.GoToAsync(page, "/telemetry/prompts");
        await ConsoleFixture.AssertFitsAsync(page, "the prompt store");
        await page.Context.CloseAsync();
    }

    /// <summary>Makes a governed call with a fresh request id, checks its status, and returns the request id.</summary>
    private async Task<string> CallAsync(string key, string text, HttpStatusCode expected)
    {
        var requestId = "tel-" + Guid.NewGuid().ToString("N");
        using var response = await FrontDoor.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", text), requestId);
        Assert.True(response.StatusCode == expected, $"call: expected {expected}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return requestId;
    }

    private async Task<(string RequestId, HttpStatusCode Status)> TryCallAsync(string key, string text)
    {
        var requestId = "tel-" + Guid.NewGuid().ToString("N");
        using var response = await FrontDoor.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", text), requestId);
        return (requestId, response.StatusCode);
    }
}
