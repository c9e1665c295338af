using System.Globalization;
using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.ConsoleTests;

/// <summary>
/// A front door (co-hosted silo with memory storage, the fake upstream, principals of every role) and a headless
/// Debian chromium driven by Playwright. Tests open their own browser context per principal, create their own apps
/// (fresh ids) and save a screenshot of each page they visit to <see cref="ScreenshotDirectory"/>.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    /// <summary>Where the chromium binary is; <c>MICROAPPS_CHROMIUM</c> overrides (scripts/chromium.sh installs it).</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("MICROAPPS_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Screenshots of every page the tests visit: TestResults/console-screenshots at the repository root.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(RepositoryRoot(), "TestResults", "console-screenshots");

    public FrontDoorFixture FrontDoor { get; } = new();

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"No chromium at {ChromiumPath}: run scripts/chromium.sh (./test.sh does) or set MICROAPPS_CHROMIUM.");
        }

        Directory.CreateDirectory(ScreenshotDirectory);
        await FrontDoor.InitializeAsync();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();

        // Playwright cannot download its own browsers here; it drives the system's chromium. The sandbox needs a
        // non-root user, which CI does not have.
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        Playwright?.Dispose();
        await FrontDoor.DisposeAsync();
    }

    /// <summary>GET of an admin-API path (e.g. <c>admin/apps/x</c>) with the admin token; fails unless 200.</summary>
    public async Task<JsonElement> AdminJsonAsync(string path)
    {
        using var response = await FrontDoor.AdminAsync(HttpMethod.Get, path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.Clone();
    }

    /// <summary>USD as the console's core.js <c>money()</c> writes it: 2 decimals, up to 4 below $1 and 6 below $0.01.</summary>
    public static string Money(decimal value)
    {
        var abs = Math.Abs(value);
        var digits = abs == 0m ? 2 : abs < 0.01m ? 6 : abs < 1m ? 4 : 2;
        var rounded = Math.Round(value, digits, MidpointRounding.AwayFromZero);
        return "$" + rounded.ToString("#,##0.00" + new string('#', digits - 2), CultureInfo.InvariantCulture);
    }

    /// <summary>Laptop width.</summary>
    public static readonly ViewportSize Laptop = new() { Width = 1366, Height = 900 };

    /// <summary>Phone width.</summary>
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    /// <summary>A new browser (own cookies) on the console's sign-in page, not signed in.</summary>
    public async Task<IPage> OpenAsync(ViewportSize? viewport = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = FrontDoor.BaseAddress.ToString(),
            ViewportSize = viewport ?? Laptop,
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/");
        return page;
    }

    /// <summary>A new browser signed in with <paramref name="token"/> (FrontDoorFixture.AdminToken, ViewerToken…), on the overview.</summary>
    public async Task<IPage> SignInAsync(string token, ViewportSize? viewport = null)
    {
        var page = await OpenAsync(viewport);
        await page.GetByLabel("Admin token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("Signed in as")).ToBeVisibleAsync();
        return page;
    }

    /// <summary>Goes to a console path (e.g. <c>/apps/demo</c>) and waits until its page has rendered its heading.</summary>
    /// <remarks>Pages that read every app (the catalog's figures) may need a longer <paramref name="timeoutMs"/> on a loaded machine.</remarks>
    public static async Task GoToAsync(IPage page, string path, float? timeoutMs = null)
    {
        await page.GotoAsync("/console" + path);
        await Expect(page.Locator("main h1").First).ToBeVisibleAsync(new() { Timeout = timeoutMs });
        await Expect(page.Locator("main .loading")).ToHaveCountAsync(0, new() { Timeout = timeoutMs });
    }

    /// <summary>
    /// Fails when the page is wider than its viewport (a phone user would have to scroll sideways), naming the
    /// elements that stick out past the right edge.
    /// </summary>
    public static async Task AssertFitsAsync(IPage page, string what)
    {
        var overflowing = await page.EvaluateAsync<string[]>("""
            () => document.documentElement.scrollWidth <= window.innerWidth ? [] :
              [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
                .slice(0, 5)
                .map(e => `<${e.tagName.toLowerCase()} class="${e.className}"> ${Math.round(e.getBoundingClientRect().right)} px: ${(e.textContent || '').trim().slice(0, 60)}`)
                .concat([`page ${document.documentElement.scrollWidth} px, viewport ${window.innerWidth} px`])
            """);
        Assert.True(overflowing.Length == 0, $"{what} is wider than the viewport: {string.Join("; ", overflowing)}");
    }

    /// <summary>Saves a full-page screenshot as <c>{name}.png</c> in <see cref="ScreenshotDirectory"/>.</summary>
    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MicroApps.Orleans.sln")))
            {
                return directory.FullName;
            }
        }

        return AppContext.BaseDirectory;
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}
