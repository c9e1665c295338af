using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// Promotion through the admin API: an author creates a draft with regression tests run on the built-in
/// <c>local</c> model (its answer is an extract of the user input, so what it contains is predictable), submits it,
/// and the gates decide; approvers work the queue.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class PromotionTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture)
{
    private const string Input = "The invoice backlog grew in March and the finance team will automate invoice approval.";

    private static object Assertion(string kind, string value) => new { kind, value };

    private static object RegressionTest(string name, params object[] assertions) => new { name, input = Input, assertions };

    private static object DraftApp(string appId, string audience, object[] tests, object[]? prompts = null) => new
    {
        appId,
        name = "Promotion app " + appId,
        owner = FrontDoorFixture.AuthorName,
        team = "finance",
        audience,
        dataClasses = Array.Empty<string>(),
        allowedTiers = new[] { "local" },
        defaultTier = "local",
        quotas = new { requestsPerMinute = 30, tokensPerDay = 100_000 },
        prompts = prompts ?? [],
        tests,
        expectedCallsPerMonth = 1000,
    };

    private async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    private async Task<string> PublishPromptAsync()
    {
        var name = $"summary-{Guid.NewGuid():N}"[..20];
        using var published = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts",
            new { name, text = "Summarise the user's text in one sentence.", description = "first cut" }, FrontDoorFixture.AuthorToken);
        await JsonAsync(published, HttpStatusCode.Created);
        return name;
    }

    private async Task CreateDraftAsync(string appId, string audience, object[] tests, string token = FrontDoorFixture.AuthorToken, object[]? prompts = null)
    {
        using var created = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", DraftApp(appId, audience, tests, prompts), token);
        await JsonAsync(created, HttpStatusCode.Created);
    }

    private Task<HttpResponseMessage> SubmitAsync(string appId, int version = 1, string token = FrontDoorFixture.AuthorToken) =>
        Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/{version}/submit", token: token);

    private async Task<string> VersionStateAsync(string appId, int version = 1)
    {
        using var response = await Fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}/versions/{version}");
        return (await JsonAsync(response, HttpStatusCode.OK)).GetProperty("state").GetString()!;
    }

    [Fact]
    public async Task A_promotion_with_a_failing_regression_test_is_refused_naming_the_test_and_assertion()
    {
        var prompt = await PublishPromptAsync();
        var appId = FrontDoorFixture.NewAppId("prm");
        await CreateDraftAsync(appId, "internal",
            [
                RegressionTest("mentions-invoices", Assertion("contains", "invoice")),
                RegressionTest("mentions-refunds", Assertion("contains", "invoice"), Assertion("contains", "refund")),
            ],
            prompts: [new { name = prompt, version = 1 }]);

        using var response = await SubmitAsync(appId);

        var problem = await JsonAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("promotion blocked by gates", problem.GetProperty("title").GetString());
        Assert.Equal("draft", problem.GetProperty("state").GetString());
        var errors = problem.GetProperty("errors");
        var reason = Assert.Single(errors.EnumerateObject()).Value[0].GetString()!;
        Assert.True(errors.TryGetProperty("regression_tests", out _), errors.ToString());
        Assert.Contains("1 of 2 test(s) failed: test 'mentions-refunds': assertion 2 contains \"refund\" failed", reason);
        Assert.DoesNotContain("'mentions-invoices'", reason);
        Assert.Equal(5, problem.GetProperty("gates").GetArrayLength());
        var failedTest = Assert.Single(problem.GetProperty("tests").EnumerateArray());
        Assert.Equal("mentions-refunds", failedTest.GetProperty("name").GetString());
        Assert.Equal("draft", await VersionStateAsync(appId));
    }

    [Fact]
    public async Task An_internal_version_whose_tests_pass_is_approved_automatically()
    {
        var appId = FrontDoorFixture.NewAppId("prm");
        await CreateDraftAsync(appId, "internal", [RegressionTest("mentions-invoices", Assertion("contains", "invoice"), Assertion("not_contains", "refund"))]);

        using var response = await SubmitAsync(appId);

        var submission = await JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal("autoApproved", submission.GetProperty("outcome").GetString());
        Assert.Equal("approved", submission.GetProperty("state").GetString());
        Assert.All(submission.GetProperty("gates").EnumerateArray(), g => Assert.True(g.GetProperty("passed").GetBoolean(), g.ToString()));
        var test = Assert.Single(submission.GetProperty("tests").EnumerateArray());
        Assert.Equal(FrontDoorFixture.LocalModel, test.GetProperty("model").GetString());
        Assert.Equal("approved", await VersionStateAsync(appId));
    }

    [Fact]
    public async Task An_external_version_waits_for_an_approver_who_approves_with_a_comment()
    {
        var appId = FrontDoorFixture.NewAppId("prm");
        await CreateDraftAsync(appId, "external", [RegressionTest("mentions-invoices", Assertion("contains", "invoice"))]);

        using var submitted = await SubmitAsync(appId);
        var submission = await JsonAsync(submitted, HttpStatusCode.OK);
        Assert.Equal("awaitingApproval", submission.GetProperty("outcome").GetString());
        Assert.Equal("submitted", submission.GetProperty("state").GetString());

        using var queue = await Fixture.AdminAsync(HttpMethod.Get, "admin/approvals", token: FrontDoorFixture.ApproverToken);
        var pending = Assert.Single((await JsonAsync(queue, HttpStatusCode.OK)).EnumerateArray(), p => p.GetProperty("appId").GetString() == appId);
        Assert.Equal(FrontDoorFixture.AuthorName, pending.GetProperty("author").GetString());
        Assert.Equal(5, pending.GetProperty("gates").GetArrayLength());

        using var byAuthor = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/approve", new { comment = "mine" }, FrontDoorFixture.AuthorToken);
        Assert.Equal(HttpStatusCode.Forbidden, byAuthor.StatusCode);
        using var noComment = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/approve", new { comment = " " }, FrontDoorFixture.ApproverToken);
        Assert.True((await JsonAsync(noComment, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("comment", out _));
        using var longComment = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/approve", new { comment = new string('x', 1001) }, FrontDoorFixture.ApproverToken);
        Assert.Equal(HttpStatusCode.BadRequest, longComment.StatusCode);

        using var approved = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/approve", new { comment = "Reviewed: data access is fine." }, FrontDoorFixture.ApproverToken);

        var decision = await JsonAsync(approved, HttpStatusCode.OK);
        Assert.Equal("approved", decision.GetProperty("state").GetString());
        Assert.Equal(FrontDoorFixture.ApproverName, decision.GetProperty("approval").GetProperty("approver").GetString());
        Assert.Equal("Reviewed: data access is fine.", decision.GetProperty("approval").GetProperty("comment").GetString());
        using var after = await Fixture.AdminAsync(HttpMethod.Get, "admin/approvals", token: FrontDoorFixture.ViewerToken);
        Assert.DoesNotContain((await JsonAsync(after, HttpStatusCode.OK)).EnumerateArray(), p => p.GetProperty("appId").GetString() == appId);

        using var again = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/reject", new { comment = "too late" }, FrontDoorFixture.ApproverToken);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        using var audit = await Fixture.AdminAsync(HttpMethod.Get, $"admin/audit?target=app:{appId}&action=app.version");
        var entries = (await JsonAsync(audit, HttpStatusCode.OK)).GetProperty("entries").EnumerateArray().ToList();
        var submittedEntry = Assert.Single(entries, e => e.GetProperty("action").GetString() == "app.version.submitted");
        Assert.Equal(FrontDoorFixture.AuthorName, submittedEntry.GetProperty("actor").GetString());
        var approvedEntry = Assert.Single(entries, e => e.GetProperty("action").GetString() == "app.version.approved");
        Assert.Equal(FrontDoorFixture.ApproverName, approvedEntry.GetProperty("actor").GetString());
        Assert.Contains("Reviewed: data access is fine.", approvedEntry.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_rejection_carries_its_comment()
    {
        var appId = FrontDoorFixture.NewAppId("prm");
        await CreateDraftAsync(appId, "external", [RegressionTest("mentions-invoices", Assertion("contains", "invoice"))]);
        using var submitted = await SubmitAsync(appId);
        await JsonAsync(submitted, HttpStatusCode.OK);

        using var rejected = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/reject", new { comment = "External audience needs a privacy review first." }, FrontDoorFixture.ApproverToken);

        var decision = await JsonAsync(rejected, HttpStatusCode.OK);
        Assert.Equal("rejected", decision.GetProperty("state").GetString());
        Assert.False(decision.GetProperty("approval").GetProperty("approved").GetBoolean());
        Assert.Equal("External audience needs a privacy review first.", decision.GetProperty("approval").GetProperty("comment").GetString());
    }

    [Fact]
    public async Task Nobody_approves_their_own_version()
    {
        var appId = FrontDoorFixture.NewAppId("prm");
        await CreateDraftAsync(appId, "external", [RegressionTest("mentions-invoices", Assertion("contains", "invoice"))], token: FrontDoorFixture.AdminToken);
        using var submitted = await SubmitAsync(appId, token: FrontDoorFixture.AdminToken);
        await JsonAsync(submitted, HttpStatusCode.OK);

        using var self = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/approve", new { comment = "lgtm" }, FrontDoorFixture.AdminToken);

        var problem = await JsonAsync(self, HttpStatusCode.Forbidden);
        Assert.Contains("may not decide on it", problem.GetProperty("detail").GetString());
        Assert.Equal("submitted", await VersionStateAsync(appId));
    }

    [Fact]
    public async Task Submissions_are_refused_to_other_authors_unknown_versions_and_non_drafts()
    {
        var appId = FrontDoorFixture.NewAppId("prm");
        await CreateDraftAsync(appId, "external", [RegressionTest("mentions-invoices", Assertion("contains", "invoice"))]);

        using var otherAuthor = await SubmitAsync(appId, token: FrontDoorFixture.OtherAuthorToken);
        Assert.Equal(HttpStatusCode.Forbidden, otherAuthor.StatusCode);
        using var viewer = await SubmitAsync(appId, token: FrontDoorFixture.ViewerToken);
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
        using var unknownVersion = await SubmitAsync(appId, version: 7);
        Assert.Equal(HttpStatusCode.NotFound, unknownVersion.StatusCode);
        using var badVersion = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/one/submit", token: FrontDoorFixture.AuthorToken);
        Assert.Equal(HttpStatusCode.BadRequest, badVersion.StatusCode);
        using var unknownApp = await SubmitAsync(FrontDoorFixture.NewAppId("none"));
        Assert.Equal(HttpStatusCode.NotFound, unknownApp.StatusCode);

        using var first = await SubmitAsync(appId);
        await JsonAsync(first, HttpStatusCode.OK);
        using var second = await SubmitAsync(appId);
        var conflict = await JsonAsync(second, HttpStatusCode.Conflict);
        Assert.Equal("submitted", conflict.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Prompts_are_published_versioned_forked_and_read_by_everyone()
    {
        var name = await PublishPromptAsync();

        using var same = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts", new { name, text = "Summarise the user's text in one sentence." }, FrontDoorFixture.AuthorToken);
        Assert.Equal(1, (await JsonAsync(same, HttpStatusCode.OK)).GetProperty("version").GetInt32());

        using var v2 = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts", new { name, text = "Summarise in two sentences." }, FrontDoorFixture.AuthorToken);
        var second = await JsonAsync(v2, HttpStatusCode.Created);
        Assert.Equal(2, second.GetProperty("version").GetInt32());
        Assert.Equal($"/admin/prompts/{name}/versions/2", v2.Headers.Location?.OriginalString);

        var fork = $"fork-{Guid.NewGuid():N}"[..16];
        using var forked = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts", new { name = fork, text = "Summarise for finance.", forkedFrom = $"{name}@1" }, FrontDoorFixture.AdminToken);
        Assert.Equal($"{name}@1", (await JsonAsync(forked, HttpStatusCode.Created)).GetProperty("forkedFrom").GetString());

        using var badFork = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts", new { name = fork, text = "Other.", forkedFrom = $"{name}@9" }, FrontDoorFixture.AdminToken);
        Assert.True((await JsonAsync(badFork, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("forkedFrom", out _));
        using var badName = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts", new { name = "Bad Name", text = "x" }, FrontDoorFixture.AuthorToken);
        Assert.True((await JsonAsync(badName, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("name", out _));
        using var byViewer = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts", new { name, text = "x" }, FrontDoorFixture.ViewerToken);
        Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);

        using var list = await Fixture.AdminAsync(HttpMethod.Get, "admin/prompts", token: FrontDoorFixture.ViewerToken);
        var listed = Assert.Single((await JsonAsync(list, HttpStatusCode.OK)).EnumerateArray(), p => p.GetProperty("name").GetString() == name);
        Assert.Equal(2, listed.GetProperty("latestVersion").GetInt32());

        using var whole = await Fixture.AdminAsync(HttpMethod.Get, $"admin/prompts/{name}", token: FrontDoorFixture.ViewerToken);
        Assert.Equal(2, (await JsonAsync(whole, HttpStatusCode.OK)).GetProperty("versions").GetArrayLength());

        using var one = await Fixture.AdminAsync(HttpMethod.Get, $"admin/prompts/{name}/versions/1", token: FrontDoorFixture.ApproverToken);
        var first = await JsonAsync(one, HttpStatusCode.OK);
        Assert.Equal(64, first.GetProperty("contentHash").GetString()!.Length);
        Assert.Equal("author-alice", first.GetProperty("author").GetString());

        using var missing = await Fixture.AdminAsync(HttpMethod.Get, $"admin/prompts/{name}/versions/3");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var unknown = await Fixture.AdminAsync(HttpMethod.Get, "admin/prompts/no-such-prompt");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
