using System.Net;

namespace MicroApps.Orleans.ConsoleTests;

/// <summary>
/// The walk through the console, across roles, on one app: an author creates it from a template and submits
/// it; a viewer sees it waiting but cannot approve; an approver approves it with a comment and promotes it; the author
/// issues a key; calls through the front door; an admin sees the app's spend and the call's trace with its decisions.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class JourneyTests(ConsoleFixture fixture)
{
    // Gates run the app's regression test through its template and the catalog reads every app: on a loaded machine
    // these answers can take longer than an expectation's 15 s default.
    private static readonly LocatorAssertionsToBeVisibleOptions Slow = new() { Timeout = 60_000 };

    [Fact]
    public async Task An_app_created_from_a_template_is_approved_called_and_its_spend_and_trace_appear()
    {
        var appId = FrontDoorFixture.NewAppId("jrn");

        // The author creates an external app (so a person must approve it) from the summarizer template and submits it.
        var author = await fixture.SignInAsync(FrontDoorFixture.AuthorToken);
        await ConsoleFixture.GoToAsync(author, "/catalog/templates/summarizer/new");
        await author.GetByLabel("App id", new() { Exact = true }).FillAsync(appId);
        await author.GetByLabel("Name", new() { Exact = true }).FillAsync("Journey summaries");
        await author.GetByLabel("Team", new() { Exact = true }).FillAsync("journey");
        await author.GetByLabel("Audience", new() { Exact = true }).SelectOptionAsync("external");
        await author.GetByLabel("Allowed tiers", new() { Exact = true }).FillAsync("standard, local");
        await author.GetByLabel("Default tier", new() { Exact = true }).FillAsync("standard");
        await author.GetByLabel("Budget limit (USD)", new() { Exact = true }).FillAsync("5");
        await author.GetByLabel("instructions", new() { Exact = true }).FillAsync("Summarise the note in one sentence.");
        await author.GetByLabel("tier", new() { Exact = true }).FillAsync("local");
        await author.GetByLabel("Test input", new() { Exact = true }).FillAsync("The invoice backlog grew in March; finance will automate invoice approval.");
        await author.GetByLabel("The answer must contain", new() { Exact = true }).FillAsync("invoice");
        await author.GetByRole(AriaRole.Button, new() { Name = "Create app" }).ClickAsync();
        await Expect(author.GetByRole(AriaRole.Heading, new() { Name = "App created" })).ToBeVisibleAsync(Slow);
        await author.GetByRole(AriaRole.Button, new() { Name = "Submit for approval" }).ClickAsync();
        await Expect(author.GetByRole(AriaRole.Table, new() { Name = "Gate results" })).ToBeVisibleAsync(Slow);
        Assert.Equal("submitted", (await fixture.AdminJsonAsync($"admin/apps/{appId}/versions/1")).GetProperty("state").GetString());

        // A viewer sees it waiting, with its gates, but cannot approve it.
        var viewer = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(viewer, "/approvals");
        var viewersCard = viewer.GetByRole(AriaRole.Region, new() { Name = $"Approval of {appId} v1", Exact = true });
        await Expect(viewersCard).ToContainTextAsync("regression_tests", new() { Timeout = 60_000 });
        await Expect(viewersCard.GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToBeDisabledAsync();
        await viewer.Context.CloseAsync();

        // The approver approves it with a comment, then promotes it on the app's page.
        var approver = await fixture.SignInAsync(FrontDoorFixture.ApproverToken);
        await ConsoleFixture.GoToAsync(approver, "/approvals");
        var card = approver.GetByRole(AriaRole.Region, new() { Name = $"Approval of {appId} v1", Exact = true });
        await card.GetByLabel($"Comment on {appId} v1").FillAsync("Checked the data access and the test.");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(card).ToHaveCountAsync(0, new() { Timeout = 60_000 });
        Assert.Equal("approved", (await fixture.AdminJsonAsync($"admin/apps/{appId}/versions/1")).GetProperty("state").GetString());

        await ConsoleFixture.GoToAsync(approver, $"/apps/{appId}");
        await approver.GetByRole(AriaRole.Button, new() { Name = "Promote v1" }).ClickAsync();
        await Expect(approver.Locator(".current-version")).ToContainTextAsync("v1", new() { Timeout = 60_000 });
        await approver.Context.CloseAsync();

        // The author issues a key on the page; the app calls the front door with it.
        await ConsoleFixture.GoToAsync(author, $"/apps/{appId}");
        await author.GetByLabel("Label of the new key").FillAsync("production");
        await author.GetByRole(AriaRole.Button, new() { Name = "Issue key" }).ClickAsync();
        var apiKey = await author.GetByLabel("New API key").InputValueAsync();
        Assert.StartsWith($"mak.{appId}.", apiKey);
        await author.Context.CloseAsync();

        var requestId = "journey-" + Guid.NewGuid().ToString("N");
        using (var call = await fixture.FrontDoor.PostChatAsync(apiKey, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "Summarise: the journey test calls the standard tier."), requestId))
        {
            Assert.True(call.StatusCode == HttpStatusCode.OK, $"chat: {(int)call.StatusCode} {await call.Content.ReadAsStringAsync()}");
        }

        var trace = await fixture.FrontDoor.WaitForTraceAsync(appId, requestId);
        var cost = trace.GetProperty("costActualUsd").GetDecimal();
        Assert.True(cost > 0m, "the standard tier is priced, so the call costs something");

        // An admin sees the app's spend and the call's trace, with its route and decisions.
        var admin = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(admin, $"/apps?q={appId}");
        var appRow = admin.GetByRole(AriaRole.Table, new() { Name = "Apps" }).GetByRole(AriaRole.Row).Filter(new() { HasText = appId });
        await Expect(appRow).ToContainTextAsync(ConsoleFixture.Money(cost));
        await ConsoleFixture.ScreenshotAsync(admin, "20-journey-apps");

        await ConsoleFixture.GoToAsync(admin, $"/telemetry?app={appId}");
        var traceRow = admin.GetByRole(AriaRole.Table, new() { Name = "Traces" }).GetByRole(AriaRole.Row).Filter(new() { HasText = requestId });
        await Expect(traceRow).ToContainTextAsync(FrontDoorFixture.StandardModel);
        await traceRow.GetByRole(AriaRole.Link, new() { Name = requestId }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Region, new() { Name = "Route" })).ToContainTextAsync(FrontDoorFixture.StandardModel);
        await Expect(admin.GetByRole(AriaRole.Region, new() { Name = "Policy decisions" })).ToContainTextAsync("allow");
        await ConsoleFixture.ScreenshotAsync(admin, "20-journey-trace");

        // The audit log names who did what, in the console, as the admin API recorded it.
        await ConsoleFixture.GoToAsync(admin, $"/audit?target=app:{appId}");
        var audit = admin.Locator("main");
        await Expect(audit).ToContainTextAsync(FrontDoorFixture.AuthorName);
        await Expect(audit).ToContainTextAsync(FrontDoorFixture.ApproverName);
        await Expect(audit).ToContainTextAsync("app.version.approved");
        await admin.Context.CloseAsync();
    }
}
