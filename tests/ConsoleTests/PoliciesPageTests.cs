using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MicroApps.Orleans.ConsoleTests;

[Collection(ConsoleCollection.Name)]
public sealed class PoliciesPageTests(ConsoleFixture fixture)
{
    [Fact]
    public async Task An_admin_sees_a_policy_error_at_its_line_then_saves_the_fix_and_it_becomes_active()
    {
        var appId = FrontDoorFixture.NewAppId("pol");
        var policyId = "console-block-" + appId;
        await using var restore = await PolicySetRestorer.CaptureAsync(fixture.FrontDoor);
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, "/policies");

        // Line 6 names a fact that does not exist: the API refuses the document and names that line.
        var invalid = BlockPolicy(policyId, appId, conditionLine: "      - model.colour: premium");
        var editor = page.GetByLabel("Policy YAML");
        await editor.FillAsync(invalid);
        var refusal = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync(),
            r => r.Url.Contains("/admin/policies", StringComparison.Ordinal) && r.Request.Method == "PUT");
        Assert.Equal(422, refusal.Status);
        using var problem = JsonDocument.Parse(await refusal.TextAsync());
        var error = problem.RootElement.GetProperty("errors")[0];
        var line = error.GetProperty("line").GetInt32();
        var column = error.GetProperty("column").GetInt32();
        Assert.Equal(6, line);

        var marked = page.Locator(".editor .gutter .error-line");
        await Expect(marked).ToHaveCountAsync(1);
        await Expect(marked).ToHaveTextAsync(line.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var entry = page.GetByRole(AriaRole.List, new() { Name = "Policy errors" }).GetByRole(AriaRole.Button);
        await Expect(entry).ToHaveCountAsync(1);
        await Expect(entry).ToContainTextAsync($"Line {line}, column {column}:");
        await Expect(entry).ToContainTextAsync("model.colour");
        await ConsoleFixture.ScreenshotAsync(page, "11-policy-error");

        // Clicking the entry puts the caret on that line.
        await entry.ClickAsync();
        var caretLine = await page.EvaluateAsync<int>(
            "() => { const a = document.querySelector('textarea[aria-label=\"Policy YAML\"]'); return a.value.slice(0, a.selectionStart).split('\\n').length; }");
        Assert.Equal(line, caretLine);
        Assert.True(await editor.EvaluateAsync<bool>("a => document.activeElement === a"));

        // The refused document changed nothing.
        Assert.Equal(restore.ActiveVersion, (await ActiveAsync(fixture.FrontDoor))?.Version);

        // The fix: a real fact; saving publishes a new version, shown on the page and active in the API.
        await editor.FillAsync(BlockPolicy(policyId, appId, conditionLine: "      - model.tier: premium"));
        await page.GetByLabel("Comment").FillAsync("console test " + appId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.Locator(".editor .gutter .error-line")).ToHaveCountAsync(0);

        var active = await ActiveAsync(fixture.FrontDoor);
        Assert.NotNull(active);
        Assert.Equal((restore.ActiveVersion ?? 0) + 1, active.Version);
        Assert.Contains(policyId, active.Yaml, StringComparison.Ordinal);
        Assert.Equal("admin", active.Author);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Active policy set · version {active.Version}" })).ToBeVisibleAsync();
        await Expect(page.Locator("#toasts")).ToContainTextAsync($"Saved: version {active.Version} is active.");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Policy versions" })).ToContainTextAsync("console test " + appId);
        await ConsoleFixture.ScreenshotAsync(page, "11-policies");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_dry_run_of_a_request_a_policy_blocks_shows_block_with_the_policy_id()
    {
        var appId = FrontDoorFixture.NewAppId("pdr");
        var policyId = "console-dry-run-" + appId;
        await fixture.FrontDoor.CreateAppWithKeyAsync(appId, ["standard", "premium"]);
        await using var restore = await PolicySetRestorer.CaptureAsync(fixture.FrontDoor);
        await PolicySetRestorer.PublishAsync(fixture.FrontDoor, BlockPolicy(policyId, appId, conditionLine: "      - model.tier: premium"), "dry-run test");

        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, "/policies");
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Dry run" });
        await form.GetByLabel("App id").FillAsync(appId);
        await form.GetByLabel("Model or tier").FillAsync("premium");
        await form.GetByLabel("Message").FillAsync("Summarise the quarterly report.");
        await form.GetByRole(AriaRole.Button, new() { Name = "Dry run" }).ClickAsync();

        // The first dry run on a silo activates the worker and loads the tokenizer: on a busy machine that has taken
        // longer than the default 15 s, so this one wait is longer.
        var result = page.GetByRole(AriaRole.Region, new() { Name = "Dry-run result" });
        await Expect(result).ToContainTextAsync("Result: block", new() { Timeout = 60_000 });
        await Expect(result).ToContainTextAsync($"Blocked by {policyId}");
        var matches = result.GetByRole(AriaRole.Table, new() { Name = "Matching policies" });
        await Expect(matches.GetByRole(AriaRole.Row).Filter(new() { HasText = policyId })).ToContainTextAsync("applied");
        await Expect(matches).ToContainTextAsync("model.tier = premium");

        // The same app on another tier is not blocked: the page shows the API's decision, not a fixed answer.
        await form.GetByLabel("Model or tier").FillAsync("standard");
        await form.GetByRole(AriaRole.Button, new() { Name = "Dry run" }).ClickAsync();
        await Expect(result).ToContainTextAsync("Result: allow");
        await Expect(result).Not.ToContainTextAsync(policyId);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_save_disabled_and_the_api_refuses_a_viewers_session()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken);
        await ConsoleFixture.GoToAsync(page, "/policies");

        var save = page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true });
        await Expect(save).ToBeDisabledAsync();
        await Expect(save).ToHaveAttributeAsync("title", "Your role (viewer) cannot do this; it needs admin.");
        await Expect(page.GetByLabel("Policy YAML")).Not.ToBeEditableAsync();

        var refused = await page.APIRequest.PutAsync("/admin/policies", new()
        {
            Headers = new Dictionary<string, string> { ["X-MicroApps-Console"] = "1", ["Content-Type"] = "application/yaml" },
            DataString = "policies: []\n",
        });
        Assert.Equal(403, refused.Status);

        // The same session may read: the refusal is the role, not a broken cookie.
        var read = await page.APIRequest.GetAsync("/admin/policies/versions");
        Assert.Equal(200, read.Status);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_line_numbers_follow_the_editors_lines_and_scroll()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(page, "/policies");
        var editor = page.GetByLabel("Policy YAML");
        var text = "policies:\n" + string.Concat(Enumerable.Range(1, 79).Select(i => $"# comment {i}\n"));
        await editor.FillAsync(text.TrimEnd('\n'));

        var numbers = page.Locator(".editor .gutter span");
        await Expect(numbers).ToHaveCountAsync(80);
        await Expect(numbers.Last).ToHaveTextAsync("80");

        // Scrolled to the end, the gutter shows the last numbers where the editor shows the last lines.
        await editor.EvaluateAsync("a => { a.scrollTop = a.scrollHeight; a.dispatchEvent(new Event('scroll')); }");
        var box = (await page.Locator(".editor").BoundingBoxAsync())!;
        var last = (await numbers.Last.BoundingBoxAsync())!;
        var first = (await numbers.First.BoundingBoxAsync())!;
        Assert.True(last.Y >= box.Y && last.Y + last.Height <= box.Y + box.Height + 1, $"line 80 at {last.Y} is outside the editor ({box.Y}..{box.Y + box.Height})");
        Assert.True(first.Y + first.Height <= box.Y, $"line 1 at {first.Y} did not scroll away (editor top {box.Y})");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_policies_page_fits_a_phone_without_horizontal_overflow()
    {
        var page = await fixture.SignInAsync(FrontDoorFixture.AdminToken, ConsoleFixture.Phone);
        await ConsoleFixture.GoToAsync(page, "/policies");
        await Expect(page.GetByLabel("Policy YAML")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Form, new() { Name = "Dry run" })).ToBeVisibleAsync();

        await ConsoleFixture.AssertFitsAsync(page, "the policies page");
        await ConsoleFixture.ScreenshotAsync(page, "11-policies-phone");
        await page.Context.CloseAsync();
    }

    /// <summary>A one-policy document that blocks only <paramref name="appId"/> (fresh per test) under one more condition.</summary>
    internal static string BlockPolicy(string policyId, string appId, string conditionLine) =>
        "policies:\n" +
        $"  - id: {policyId}\n" +
        "    description: Console test block\n" +
        "    condition:\n" +
        $"      - app.id: {appId}\n" +
        conditionLine + "\n" +
        "    action: block\n";

    internal static async Task<PolicyVersion?> ActiveAsync(FrontDoorFixture frontDoor)
    {
        using var response = await frontDoor.AdminAsync(HttpMethod.Get, "admin/policies");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        Assert.True(response.IsSuccessStatusCode, $"GET policies: {(int)response.StatusCode}");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        return new PolicyVersion(root.GetProperty("version").GetInt32(), root.GetProperty("yaml").GetString()!, root.GetProperty("author").GetString()!);
    }

    internal sealed record PolicyVersion(int Version, string Yaml, string Author);
}

/// <summary>
/// The policy set is one global document shared by every test of the fixture: a test that publishes one captures
/// the active text first and publishes it again when it ends (an empty list when none was active).
/// </summary>
internal sealed class PolicySetRestorer : IAsyncDisposable
{
    private readonly FrontDoorFixture frontDoor;
    private readonly string? yaml;

    private PolicySetRestorer(FrontDoorFixture frontDoor, int? activeVersion, string? yaml)
    {
        this.frontDoor = frontDoor;
        ActiveVersion = activeVersion;
        this.yaml = yaml;
    }

    public int? ActiveVersion { get; }

    public static async Task<PolicySetRestorer> CaptureAsync(FrontDoorFixture frontDoor)
    {
        var active = await PoliciesPageTests.ActiveAsync(frontDoor);
        return new PolicySetRestorer(frontDoor, active?.Version, active?.Yaml);
    }

    public static async Task<int> PublishAsync(FrontDoorFixture frontDoor, string yaml, string comment)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "admin/policies?comment=" + Uri.EscapeDataString(comment))
        {
            Content = new StringContent(yaml, Encoding.UTF8, "application/yaml"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FrontDoorFixture.AdminToken);
        using var response = await frontDoor.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"PUT policies: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("version").GetInt32();
    }

    public async ValueTask DisposeAsync() => await PublishAsync(frontDoor, yaml ?? "policies: []\n", "restore after a console test");
}
