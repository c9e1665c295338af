using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace MicroApps.Orleans.ConsoleTests;

[Collection(ConsoleCollection.Name)]
public sealed class SignInTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task Signing_in_with_a_principal_token_shows_its_name_and_role()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.ApproverToken);

        await Expect(page.Locator(".topbar .who")).ToContainTextAsync(FrontDoorFixture.ApproverName);
        await Expect(page.Locator(".topbar .who")).ToContainTextAsync("approver");
        await ConsoleFixture.ScreenshotAsync(page, "00-signed-in");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_wrong_token_is_refused_with_a_message_and_no_session()
    {
        var page = await fixture.OpenAsync();
        await page.GetByLabel("Admin token").FillAsync("not-a-token-of-anyone");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not FrontDoor:AdminToken");
        await ConsoleFixture.ScreenshotAsync(page, "00-sign-in-refused");
        var cookies = await page.Context.CookiesAsync();
        Assert.DoesNotContain(cookies, c => c.Name == "microapps_console");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Signing_out_ends_the_session_for_the_admin_api()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        var before = await page.APIRequest.GetAsync("/admin/apps");
        Assert.Equal(200, before.Status);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByLabel("Admin token")).ToBeVisibleAsync();

        var after = await page.APIRequest.GetAsync("/admin/apps");
        Assert.Equal(401, after.Status);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_console_session_changes_nothing_without_the_console_header()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);

        // What a cross-site form would send: the cookie, but not the header only the console's own scripts add.
        var forged = await page.APIRequest.PostAsync("/admin/apps/x-forged/suspend");
        Assert.Equal(403, forged.Status);
        Assert.Contains("X-MicroApps-Console", await forged.TextAsync());

        var reads = await page.APIRequest.GetAsync("/admin/apps");
        Assert.Equal(200, reads.Status);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_session_cookie_is_http_only_and_same_site_strict()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);

        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "microapps_console");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("", await page.EvaluateAsync<string>("() => document.cookie"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_console_loads_nothing_from_another_origin()
    {
        var page = await fixture.OpenAsync();
        var foreign = new List<string>();
        page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(fixture.FrontDoor.BaseAddress.ToString().TrimEnd('/'), StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal))
            {
                foreign.Add(request.Url);
            }
        };
        await page.GetByLabel("Admin token").FillAsync(FrontDoorFixture.AdminToken);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("Signed in as")).ToBeVisibleAsync();

        Assert.Empty(foreign);
        using var http = new HttpClient { BaseAddress = fixture.FrontDoor.BaseAddress };
        using var shell = await http.GetAsync("console/apps");
        Assert.Equal(HttpStatusCode.OK, shell.StatusCode);
        Assert.Contains("script-src 'self'", shell.Headers.GetValues("Content-Security-Policy").Single());
        await page.Context.CloseAsync();
    }
}
