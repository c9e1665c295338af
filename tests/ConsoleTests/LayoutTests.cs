namespace MicroApps.Orleans.ConsoleTests;

/// <summary>Every page of the navigation at laptop and phone widths, for every role.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class LayoutTests(ConsoleFixture fixture)
{
    /// <summary>The navigation's pages, as app.js lists them.</summary>
    public static TheoryData<string> Pages => new() { "/", "/apps", "/approvals", "/catalog", "/workflows", "/cost", "/tiers", "/policies", "/telemetry", "/audit" };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Every_page_fits_a_phone_without_sideways_scrolling(string path)
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken, ConsoleFixture.Phone);
        await ConsoleFixture.GoToAsync(page, path);

        await ConsoleFixture.AssertFitsAsync(page, $"{path}");
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Every_page_renders_for_a_viewer_without_an_error(string path)
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, path);

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task On_a_phone_the_navigation_opens_from_the_menu_button()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken, ConsoleFixture.Phone);
        var apps = page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Apps", Exact = true });
        await Expect(apps).ToBeHiddenAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Menu" }).ClickAsync();
        await Expect(apps).ToBeVisibleAsync();
        await ConsoleFixture.ScreenshotAsync(page, "00-menu-phone");
        await apps.ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/console/apps$"));
        await Expect(apps).ToBeHiddenAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_unknown_console_path_says_so()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, "/no-such-page");

        await Expect(page.Locator("main h1")).ToHaveTextAsync("Not found");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Only_admins_see_the_orleans_dashboard_link()
    {
        var admin = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await Expect(admin.GetByRole(AriaRole.Link, new() { Name = "Orleans dashboard" })).ToHaveAttributeAsync("href", "/dashboard/");
        await admin.Context.CloseAsync();

        var viewer = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await Expect(viewer.GetByRole(AriaRole.Link, new() { Name = "Orleans dashboard" })).ToHaveCountAsync(0);
        await viewer.Context.CloseAsync();
    }
}
