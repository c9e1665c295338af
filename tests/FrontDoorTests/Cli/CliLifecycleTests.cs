using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests.Cli;

/// <summary>
/// The app lifecycle through the CLI with JSON manifests: push (create, then a new version), submit (the gates' table),
/// approve or reject with the approver's token, promote, and status showing what is published.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class CliLifecycleTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture), IDisposable
{
    private const string Input = "The invoice backlog grew in March and the finance team will automate invoice approval.";

    private readonly CliHarness cli = new(fixture);

    public void Dispose() => cli.Dispose();

    /// <summary>A JSON manifest owned by author-alice whose regression test runs on the built-in local model (its answer is an extract of the input).</summary>
    private string WriteManifest(string appId, string audience, string name, string mustContain = "invoice")
    {
        var file = cli.PathOf(appId + ".json");
        File.WriteAllText(file, JsonSerializer.Serialize(new
        {
            appId,
            name,
            owner = FrontDoorFixture.AuthorName,
            team = "finance",
            audience,
            dataClasses = Array.Empty<string>(),
            allowedTiers = new[] { "local" },
            defaultTier = "local",
            quotas = new { requestsPerMinute = 30, tokensPerDay = 100_000 },
            budget = new { limitUsd = 3, period = "day" },
            expectedCallsPerMonth = 1000,
            tests = new[] { new { name = "mentions-invoices", input = Input, assertions = new[] { new { kind = "contains", value = mustContain } } } },
        }));
        return file;
    }

    private Task<CliResult> AuthorAsync(params string[] args) => cli.RunAsync(FrontDoorFixture.AuthorToken, args);

    private Task<CliResult> ApproverAsync(params string[] args) => cli.RunAsync(FrontDoorFixture.ApproverToken, args);

    [Fact]
    public async Task Push_creates_a_draft_then_adds_a_version_when_the_app_exists()
    {
        var appId = FrontDoorFixture.NewAppId("cli");

        var created = await AuthorAsync("push", WriteManifest(appId, "internal", "First name"));
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains($"created {appId}", created.Output);
        Assert.Contains("draft", created.Output);

        var again = await AuthorAsync("push", WriteManifest(appId, "internal", "First name"));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("nothing changed", again.Output);

        var added = await AuthorAsync("push", WriteManifest(appId, "internal", "Second name"), "--json");
        Assert.True(added.ExitCode == 0, added.ToString());
        var version = added.Json();
        Assert.Equal(2, version.GetProperty("version").GetInt32());
        Assert.Equal("draft", version.GetProperty("state").GetString());
        Assert.Equal("Second name", version.GetProperty("manifest").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Push_of_an_invalid_manifest_prints_one_line_per_field_error()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        var file = cli.PathOf("bad.json");
        File.WriteAllText(file, JsonSerializer.Serialize(new { appId, name = "Bad", team = "", allowedTiers = new[] { "local" }, defaultTier = "premium" }));

        var result = await AuthorAsync("push", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error: team: Required.", result.ErrorLines);
        Assert.Contains("error: defaultTier: 'premium' is not one of allowedTiers.", result.ErrorLines);
        Assert.All(result.ErrorLines, l => Assert.StartsWith("error: ", l));
    }

    [Fact]
    public async Task A_missing_manifest_file_is_a_usage_error()
    {
        var result = await AuthorAsync("push", cli.PathOf("nowhere.yaml"));

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"error: cannot read {cli.PathOf("nowhere.yaml")}", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task An_internal_app_is_submitted_approved_automatically_and_promoted()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        Assert.Equal(0, (await AuthorAsync("push", WriteManifest(appId, "internal", "Invoices"))).ExitCode);

        var submitted = await AuthorAsync("submit", appId);

        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Contains("promotion gates", submitted.Output);
        Assert.Contains("regression_tests", submitted.Output);
        Assert.Contains("mentions-invoices", submitted.Output);
        Assert.Contains("approved automatically", submitted.Output);
        Assert.DoesNotContain("fail", submitted.Output);

        var promoted = await ApproverAsync("promote", appId, "1");
        Assert.True(promoted.ExitCode == 0, promoted.ToString());
        Assert.Contains($"version 1 of {appId} is published", promoted.Output);

        var status = await AuthorAsync("status", appId, "--json");
        Assert.Equal(1, status.Json().GetProperty("release").GetProperty("publishedVersion").GetInt32());
    }

    [Fact]
    public async Task A_submission_blocked_by_a_failing_test_shows_the_gates_and_exits_1()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        Assert.Equal(0, (await AuthorAsync("push", WriteManifest(appId, "internal", "Refunds", mustContain: "refund"))).ExitCode);

        var submitted = await AuthorAsync("submit", appId);

        Assert.Equal(1, submitted.ExitCode);
        var failedGate = Assert.Single(submitted.Output.Split('\n'), l => l.Contains("regression_tests", StringComparison.Ordinal) && l.Contains("fail", StringComparison.Ordinal));
        Assert.Contains("refund", failedGate);
        var error = Assert.Single(submitted.ErrorLines);
        Assert.StartsWith("error: regression_tests: 1 of 1 test(s) failed", error);
        Assert.Contains("refund", error);
        var status = await AuthorAsync("status", appId, "--json");
        Assert.Equal("draft", status.Json().GetProperty("state").GetString());
    }

    [Fact]
    public async Task An_external_app_waits_for_an_approver_who_approves_then_promotes()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        Assert.Equal(0, (await AuthorAsync("push", WriteManifest(appId, "external", "Invoices outside"))).ExitCode);

        var submitted = await AuthorAsync("submit", appId, "--version", "1");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Contains("waits for an approver", submitted.Output);

        var byAuthor = await AuthorAsync("approve", appId, "1", "--comment", "mine");
        Assert.Equal(1, byAuthor.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(byAuthor.ErrorLines));

        var approved = await ApproverAsync("approve", appId, "1", "--comment", "Reviewed the test and the data classes.");
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Contains($"version 1 of {appId} is approved", approved.Output);

        var promoted = await ApproverAsync("promote", appId, "1");
        Assert.True(promoted.ExitCode == 0, promoted.ToString());

        var status = await AuthorAsync("status", appId);
        Assert.Contains("version 1 published", status.Output);
    }

    [Fact]
    public async Task A_rejected_version_cannot_be_promoted()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        Assert.Equal(0, (await AuthorAsync("push", WriteManifest(appId, "external", "Invoices outside"))).ExitCode);
        Assert.Equal(0, (await AuthorAsync("submit", appId)).ExitCode);

        var rejected = await ApproverAsync("reject", appId, "1", "--comment", "Needs a PII test first.");
        Assert.True(rejected.ExitCode == 0, rejected.ToString());
        Assert.Contains($"version 1 of {appId} is rejected", rejected.Output);

        var promoted = await ApproverAsync("promote", appId, "1");
        Assert.Equal(1, promoted.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(promoted.ErrorLines));
    }

    [Fact]
    public async Task Submit_without_a_draft_says_so()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await Fixture.CreateAppWithKeyAsync(appId);

        var result = await cli.AdminAsync("submit", appId);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"error: {appId} has no draft version to submit", Assert.Single(result.ErrorLines));
    }
}
