using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.ConsoleTests;

/// <summary>
/// The approvals queue in a real browser: versions submitted through the admin API (their gates run on the built-in
/// local model) appear with their gates; approvers decide with a comment; the API's refusals show next to the form.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ApprovalsPageTests(ConsoleFixture fixture)
{
    private const string Input = "The invoice backlog grew in March and the finance team will automate invoice approval.";

    /// <summary>
    /// An external app's draft (regression test on the local model) created by <paramref name="token"/> and submitted
    /// by it: its gates pass and it waits for an approver.
    /// </summary>
    private async Task<string> SubmittedVersionAsync(string token = FrontDoorFixture.AuthorToken)
    {
        var appId = FrontDoorFixture.NewAppId("cap");
        using var created = await fixture.FrontDoor.AdminAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Approvals page " + appId,
            owner = FrontDoorFixture.AuthorName,
            team = "finance",
            audience = "external",
            dataClasses = Array.Empty<string>(),
            allowedTiers = new[] { "local" },
            defaultTier = "local",
            quotas = new { requestsPerMinute = 30, tokensPerDay = 100_000 },
            tests = new[] { new { name = "mentions-invoices", input = Input, assertions = new[] { new { kind = "contains", value = "invoice" } } } },
            expectedCallsPerMonth = 1000,
        }, token);
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"create: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");

        using var submitted = await fixture.FrontDoor.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/submit", token: token);
        var body = await submitted.Content.ReadAsStringAsync();
        Assert.True(submitted.StatusCode == HttpStatusCode.OK, $"submit: {(int)submitted.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal("awaitingApproval", json.RootElement.GetProperty("outcome").GetString());
        return appId;
    }

    private async Task<string> VersionStateAsync(string appId) =>
        (await fixture.AdminJsonAsync($"admin/apps/{appId}/versions/1")).GetProperty("state").GetString()!;

    private static ILocator Card(IPage page, string appId) =>
        page.GetByRole(AriaRole.Region, new() { Name = $"Approval of {appId} v1", Exact = true });

    [Fact]
    public async Task A_submitted_version_shows_its_gates_and_an_approver_approves_it_with_a_comment()
    {
        var appId = await SubmittedVersionAsync();
        var page = await fixture.SignInAsync(FrontDoorFixture.ApproverToken);
        await ConsoleFixture.GoToAsync(page, "/approvals");

        var card = Card(page, appId);
        await Expect(card).ToContainTextAsync(FrontDoorFixture.AuthorName);
        await Expect(card).ToContainTextAsync("finance");
        await Expect(card).ToContainTextAsync("external");
        var gates = card.GetByRole(AriaRole.Table, new() { Name = $"Gates of {appId} v1" });
        await Expect(gates.GetByRole(AriaRole.Row)).ToHaveCountAsync(6);
        await Expect(gates.GetByRole(AriaRole.Row).Filter(new() { HasText = "regression_tests" })).ToContainTextAsync("passed");
        await Expect(card.GetByRole(AriaRole.Table, new() { Name = $"Regression tests of {appId} v1" })).ToContainTextAsync("mentions-invoices");
        await Expect(card.GetByRole(AriaRole.Link, new() { Name = appId })).ToHaveAttributeAsync("href", $"/console/apps/{appId}");
        await ConsoleFixture.ScreenshotAsync(page, "04-approvals");

        await card.GetByLabel($"Comment on {appId} v1").FillAsync("Reviewed in the console: data access is fine.");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();

        await Expect(page.Locator("#toasts")).ToContainTextAsync($"{appId} v1 approved");
        await Expect(Card(page, appId)).ToHaveCountAsync(0);
        Assert.Equal("approved", await VersionStateAsync(appId));
        var queue = await fixture.AdminJsonAsync("admin/approvals");
        Assert.DoesNotContain(queue.EnumerateArray(), p => p.GetProperty("appId").GetString() == appId);
        var audit = await fixture.AdminJsonAsync($"admin/audit?target=app:{appId}&action=app.version.approved");
        var entry = Assert.Single(audit.GetProperty("entries").EnumerateArray());
        Assert.Equal(FrontDoorFixture.ApproverName, entry.GetProperty("actor").GetString());
        Assert.Contains("Reviewed in the console: data access is fine.", entry.GetProperty("reason").GetString());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_rejection_without_a_comment_is_refused_next_to_the_form_then_rejected_with_one()
    {
        var appId = await SubmittedVersionAsync();
        var page = await fixture.SignInAsync(FrontDoorFixture.ApproverToken);
        await ConsoleFixture.GoToAsync(page, "/approvals");
        var card = Card(page, appId);

        await card.GetByRole(AriaRole.Button, new() { Name = "Reject" }).ClickAsync();
        await Expect(card.GetByRole(AriaRole.Alert)).ToContainTextAsync("A rejection needs a comment saying why.");
        await Expect(card.GetByRole(AriaRole.Alert)).ToContainTextAsync("comment");
        Assert.Equal("submitted", await VersionStateAsync(appId));

        await card.GetByLabel($"Comment on {appId} v1").FillAsync("The regression test is too thin.");
        await card.GetByRole(AriaRole.Button, new() { Name = "Reject" }).ClickAsync();

        await Expect(page.Locator("#toasts")).ToContainTextAsync($"{appId} v1 rejected");
        await Expect(Card(page, appId)).ToHaveCountAsync(0);
        var version = await fixture.AdminJsonAsync($"admin/apps/{appId}/versions/1");
        Assert.Equal("rejected", version.GetProperty("state").GetString());
        Assert.Equal("The regression test is too thin.", version.GetProperty("approval").GetProperty("comment").GetString());
        var audit = await fixture.AdminJsonAsync($"admin/audit?target=app:{appId}&action=app.version.rejected");
        Assert.Equal(FrontDoorFixture.ApproverName, Assert.Single(audit.GetProperty("entries").EnumerateArray()).GetProperty("actor").GetString());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_version_decided_meanwhile_shows_the_api_conflict_next_to_the_form()
    {
        var appId = await SubmittedVersionAsync();
        var page = await fixture.SignInAsync(FrontDoorFixture.ApproverToken);
        await ConsoleFixture.GoToAsync(page, "/approvals");
        var card = Card(page, appId);
        await Expect(card).ToBeVisibleAsync();

        // Another approver (the admin) decides while this page is open.
        using var elsewhere = await fixture.FrontDoor.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/reject", new { comment = "Rejected elsewhere." });
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);

        await card.GetByLabel($"Comment on {appId} v1").FillAsync("Looks good to me.");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();

        var alert = card.GetByRole(AriaRole.Alert);
        await Expect(alert).ToContainTextAsync("Transition refused");
        await Expect(alert).ToContainTextAsync("409");
        Assert.Equal("rejected", await VersionStateAsync(appId));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_approver_deciding_on_a_version_they_wrote_sees_the_api_refusal()
    {
        // The admin writes and submits the version, then tries to approve it: nobody decides on their own version.
        var appId = await SubmittedVersionAsync(FrontDoorFixture.AdminToken);
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, "/approvals");
        var card = Card(page, appId);
        await Expect(card).ToContainTextAsync("You wrote this version");

        await card.GetByLabel($"Comment on {appId} v1").FillAsync("Approving my own work.");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();

        var alert = card.GetByRole(AriaRole.Alert);
        await Expect(alert).ToContainTextAsync("403");
        await Expect(alert).ToContainTextAsync("may not decide on it");
        Assert.Equal("submitted", await VersionStateAsync(appId));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_the_queue_but_cannot_approve()
    {
        var appId = await SubmittedVersionAsync();
        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, "/approvals");
        var card = Card(page, appId);

        await Expect(card.GetByRole(AriaRole.Table, new() { Name = $"Gates of {appId} v1" })).ToBeVisibleAsync();
        var approve = card.GetByRole(AriaRole.Button, new() { Name = "Approve" });
        await Expect(approve).ToBeDisabledAsync();
        await Expect(approve).ToHaveAttributeAsync("title", "Your role (viewer) cannot do this; it needs approver or admin.");
        await Expect(card.GetByRole(AriaRole.Button, new() { Name = "Reject" })).ToBeDisabledAsync();
        await Expect(card.GetByLabel($"Comment on {appId} v1")).ToBeDisabledAsync();

        // The server refuses the viewer's session anyway, even with the console's header.
        var refused = await page.APIRequest.PostAsync($"/admin/apps/{appId}/versions/1/approve", new()
        {
            Headers = new Dictionary<string, string> { ["X-MicroApps-Console"] = "1" },
            DataObject = new { comment = "Sneaking an approval in." },
        });
        Assert.Equal(403, refused.Status);
        Assert.Equal("submitted", await VersionStateAsync(appId));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_queue_fits_a_phone()
    {
        var appId = await SubmittedVersionAsync();
        var page = await fixture.SignInAsync(FrontDoorFixture.ApproverToken, ConsoleFixture.Phone);
        await ConsoleFixture.GoToAsync(page, "/approvals");

        await Expect(Card(page, appId)).ToBeVisibleAsync();
        await Expect(Card(page, appId).GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToBeEnabledAsync();
        await ConsoleFixture.AssertFitsAsync(page, "the page");
        await ConsoleFixture.ScreenshotAsync(page, "04-approvals-phone");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_empty_queue_says_nothing_is_waiting()
    {
        // The queue is shared by every test of the cluster, so the page is shown an empty answer of the API.
        var page = await fixture.SignInAsync(FrontDoorFixture.ApproverToken);
        await page.RouteAsync("**/admin/approvals", route => route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = "[]" }));
        await ConsoleFixture.GoToAsync(page, "/approvals");

        await Expect(page.Locator("main .empty")).ToContainTextAsync("Nothing is waiting for approval");
        await Expect(page.Locator("main section.approval")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_author_is_shown_the_api_refusal_of_the_queue()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AuthorToken);
        await ConsoleFixture.GoToAsync(page, "/approvals");

        var alert = page.Locator("main").GetByRole(AriaRole.Alert);
        await Expect(alert).ToContainTextAsync("403");
        await Expect(page.Locator("main")).ToContainTextAsync("The queue is for approvers, admins and viewers");
        await page.Context.CloseAsync();
    }
}
