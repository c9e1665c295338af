namespace MicroApps.Orleans.ConsoleTests;

[Collection(ConsoleCollection.Name)]
public sealed class AuditPageTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task The_audit_page_shows_a_policy_change_by_the_admin_and_filters_by_the_url()
    {
        var appId = FrontDoorFixture.NewAppId("aud");
        var comment = "audit console test " + appId;
        int version;
        await using (await PolicySetRestorer.CaptureAsync(fixture.FrontDoor))
        {
            version = await PolicySetRestorer.PublishAsync(
                fixture.FrontDoor, PoliciesPageTests.BlockPolicy("console-audit-" + appId, appId, "      - model.tier: premium"), comment);
        }

        var page = await fixture.SignInAsync(FrontDoorFixture.ApproverToken);
        await ConsoleFixture.GoToAsync(page, "/audit");
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Audit filters" });
        await form.GetByLabel("Actor").FillAsync("admin");
        await form.GetByLabel("Action").FillAsync("policy.published");
        await form.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(@"/console/audit\?actor=admin&action=policy\.published$"));
        var table = page.GetByRole(AriaRole.Table, new() { Name = "Audit entries" });
        var row = table.GetByRole(AriaRole.Row).Filter(new() { HasText = comment });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("policy.published");
        await Expect(row).ToContainTextAsync("policy:default");
        await Expect(row).ToContainTextAsync($"version {version}: {comment}");
        await Expect(row.Locator("td[data-label=Actor]")).ToHaveTextAsync("admin");
        await Expect(row.Locator("td[data-label=Role]")).ToHaveTextAsync("admin");

        // Newest first: the restore (published after the change) is above it.
        var actions = await table.Locator("tbody td[data-label=Reason]").AllTextContentsAsync();
        Assert.Contains(actions, a => a.Contains("restore after a console test", StringComparison.Ordinal));
        Assert.True(
            actions.ToList().FindIndex(a => a.Contains("restore after a console test", StringComparison.Ordinal)) < actions.ToList().FindIndex(a => a.Contains(comment, StringComparison.Ordinal)),
            "entries are not newest first");

        // Every row matches the filters in the URL.
        var actors = await table.Locator("tbody td[data-label=Actor]").AllTextContentsAsync();
        Assert.All(actors, a => Assert.Equal("admin", a.Trim()));
        await ConsoleFixture.ScreenshotAsync(page, "12-audit");

        // A filter that matches nothing says so.
        await ConsoleFixture.GoToAsync(page, "/audit?actor=nobody-" + appId);
        await Expect(page.GetByText("No audit entries match these filters.")).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_audit_page_pages_older_entries_by_the_apis_continuation()
    {
        var appId = FrontDoorFixture.NewAppId("aup");
        await fixture.FrontDoor.CreateAppWithKeyAsync(appId);
        await fixture.FrontDoor.IssueKeyAsync(appId);
        await fixture.FrontDoor.IssueKeyAsync(appId);
        var expected = await SequencesAsync($"admin/audit?target=app:{appId}&pageSize=200");
        Assert.True(expected.Count >= 4, $"expected at least 4 entries on app:{appId}, got {expected.Count}");

        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, $"/audit?target=app:{appId}&pageSize=2");
        var seen = new List<long>();
        var table = page.GetByRole(AriaRole.Table, new() { Name = "Audit entries" });
        for (var pages = 1; ; pages++)
        {
            Assert.True(pages <= expected.Count, "the paging did not end");
            await Expect(table).ToBeVisibleAsync();
            var sequences = (await table.Locator("tbody td[data-label='#']").AllTextContentsAsync()).Select(t => long.Parse(t.Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.InRange(sequences.Count, 1, 2);
            seen.AddRange(sequences);
            var older = page.GetByRole(AriaRole.Link, new() { Name = "Older entries" });
            if (await older.CountAsync() == 0)
            {
                await Expect(page.GetByText("End of the log for these filters.")).ToBeVisibleAsync();
                break;
            }

            var url = page.Url;
            await older.ClickAsync();
            await Expect(page).Not.ToHaveURLAsync(url);
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("continuation="));
            await Expect(page.Locator("main .loading")).ToHaveCountAsync(0);
            await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Newest" })).ToBeVisibleAsync();
        }

        // Every entry once, newest first, the same as the API's whole answer.
        Assert.Equal(expected, seen);
        await page.Context.CloseAsync();
    }

    private async Task<List<long>> SequencesAsync(string path)
    {
        using var response = await fixture.FrontDoor.AdminAsync(HttpMethod.Get, path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode}");
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.RootElement.GetProperty("continuation").ValueKind);
        return json.RootElement.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()).ToList();
    }

    [Fact]
    public async Task An_admin_verifies_the_chain_and_a_viewer_cannot()
    {
        var admin = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(admin, "/audit");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Verify chain" }).ClickAsync();
        var status = admin.GetByRole(AriaRole.Status).Filter(new() { HasText = "Chain intact." });
        await Expect(status).ToBeVisibleAsync();
        await Expect(status).ToContainTextAsync("every hash matches");
        await admin.Context.CloseAsync();

        var viewer = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(viewer, "/audit");
        await Expect(viewer.GetByRole(AriaRole.Table, new() { Name = "Audit entries" })).ToBeVisibleAsync();
        await Expect(viewer.GetByRole(AriaRole.Button, new() { Name = "Verify chain" })).ToBeDisabledAsync();
        var refused = await viewer.APIRequest.GetAsync("/admin/audit/verify");
        Assert.Equal(403, refused.Status);
        await viewer.Context.CloseAsync();
    }

    [Fact]
    public async Task An_author_is_told_the_audit_log_is_not_open_to_their_role()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AuthorToken);
        await ConsoleFixture.GoToAsync(page, "/audit");

        await Expect(page.GetByRole(AriaRole.Note)).ToContainTextAsync("The audit log is not open to your role (author).");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Audit entries" })).ToHaveCountAsync(0);

        // The message matches the API: the author's session may not read the log.
        var refused = await page.APIRequest.GetAsync("/admin/audit");
        Assert.Equal(403, refused.Status);
        await page.Context.CloseAsync();
    }
}
