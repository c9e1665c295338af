using System.Net;
using System.Text.Json;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests;

[Collection(FrontDoorCollection.Name)]
public sealed class LifecycleEndpointsTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture)
{
    private IGrainFactory Grains => Fixture.FrontDoor.Services.GetRequiredService<IGrainFactory>();

    private static object App(string appId, string? owner = null, string? initialState = null, string defaultTier = "local") => new
    {
        appId,
        name = "Lifecycle app",
        owner,
        team = "lifecycle-tests",
        audience = "internal",
        allowedTiers = new[] { "local", "standard" },
        defaultTier,
        quotas = new { requestsPerMinute = 0, tokensPerDay = 0 },
        budget = new { limitUsd = 100m, period = "day" },
        initialState,
    };

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    private async Task<JsonElement> OkAsync(HttpMethod method, string path, object? body = null, string token = FrontDoorFixture.AdminToken, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Fixture.AdminAsync(method, path, body, token);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.Clone();
    }

    /// <summary>The model that answered a chat call naming no model (the served version's default tier decides).</summary>
    private async Task<string> AnsweringModelAsync(string key)
    {
        using var response = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("auto", "Summarize: the lifecycle works."));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"chat: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("model").GetString()!;
    }

    /// <summary>A published v1 on the local tier and an approved v2 on the standard tier (gates through the grain: the submit endpoints are the gates work).</summary>
    private async Task<(string AppId, string Key)> PublishedV1WithApprovedV2Async()
    {
        var appId = FrontDoorFixture.NewAppId("lc");
        await OkAsync(HttpMethod.Post, "admin/apps", App(appId, owner: FrontDoorFixture.AuthorName, initialState: "published"), expected: HttpStatusCode.Created);
        var key = await Fixture.IssueKeyAsync(appId);
        var v2 = await OkAsync(HttpMethod.Post, $"admin/apps/{appId}/versions", new { defaultTier = "standard", promptVersion = "v2" },
            FrontDoorFixture.AuthorToken, HttpStatusCode.Created);
        Assert.Equal(2, v2.GetProperty("version").GetInt32());
        Assert.Equal("draft", v2.GetProperty("state").GetString());

        var app = Grains.GetGrain<IMicroAppGrain>(appId);
        await app.SubmitAsync(2, FrontDoorFixture.AuthorName);
        var approved = await app.RecordGatesAsync(2, [new GateResult("pii_scan", true, "clean", DateTimeOffset.UtcNow)], needsApprover: false);
        Assert.Equal(VersionState.Approved, approved.State);
        return (appId, key);
    }

    [Fact]
    public async Task A_new_app_is_a_draft_owned_by_its_author_served_only_to_a_test_key()
    {
        var appId = FrontDoorFixture.NewAppId("lc");

        var created = await OkAsync(HttpMethod.Post, "admin/apps", App(appId), FrontDoorFixture.AuthorToken, HttpStatusCode.Created);
        Assert.Equal(FrontDoorFixture.AuthorName, created.GetProperty("owner").GetString());
        Assert.Equal("draft", created.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("release").GetProperty("publishedVersion").ValueKind);

        var production = await Fixture.IssueKeyAsync(appId);
        using (var refused = await Fixture.PostChatAsync(production, FrontDoorFixture.ChatBody("auto", "hello")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            var error = (await JsonAsync(refused)).GetProperty("error");
            Assert.Equal("app_not_published", error.GetProperty("code").GetString());
            Assert.Contains("use a test key", error.GetProperty("message").GetString());
        }

        var testKey = await OkAsync(HttpMethod.Post, $"admin/apps/{appId}/test-keys", new { label = "alice's" }, FrontDoorFixture.AuthorToken, HttpStatusCode.Created);
        Assert.Equal(FrontDoorFixture.AuthorName, testKey.GetProperty("holder").GetString());
        Assert.Equal(FrontDoorFixture.LocalModel, await AnsweringModelAsync(testKey.GetProperty("apiKey").GetString()!));
    }

    [Fact]
    public async Task Only_admins_create_published_apps_and_authors_only_their_own()
    {
        var appId = FrontDoorFixture.NewAppId("lc");

        using (var published = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", App(appId, initialState: "published"), FrontDoorFixture.AuthorToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, published.StatusCode);
        }

        using (var someoneElse = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", App(appId, owner: FrontDoorFixture.OtherAuthorName), FrontDoorFixture.AuthorToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, someoneElse.StatusCode);
        }

        using (var unknownState = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", App(appId, initialState: "live")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknownState.StatusCode);
            Assert.True((await JsonAsync(unknownState)).GetProperty("errors").TryGetProperty("initialState", out _));
        }

        using var missing = await Fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task New_manifest_fields_are_accepted_and_bad_ones_named()
    {
        var appId = FrontDoorFixture.NewAppId("lc");
        var body = new
        {
            appId,
            name = "Governed",
            team = "t",
            allowedTiers = new[] { "local" },
            prompts = new[] { new { name = "summarize", version = 3 } },
            tests = new[] { new { name = "short", input = "Summarize: hi", assertions = new[] { new { kind = "contains", value = "hi" } } } },
            connectors = new[] { new { name = "crm", host = "api.crm.example.com", dataClasses = new[] { "email" } } },
            egressAllowlist = new[] { "*.example.com" },
            expectedCallsPerMonth = 5000,
        };

        var created = await OkAsync(HttpMethod.Post, "admin/apps", body, FrontDoorFixture.AuthorToken, HttpStatusCode.Created);
        Assert.Equal("summarize", created.GetProperty("prompts")[0].GetProperty("name").GetString());
        Assert.Equal(5000, created.GetProperty("expectedCallsPerMonth").GetInt64());

        using var bad = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", """
            {"appId":"bad-tests-app","name":"n","team":"t","allowedTiers":["local"],
             "tests":[{"name":"a","input":"x","assertions":[{"kind":"sounds_good","value":""}]}]}
            """, FrontDoorFixture.AuthorToken);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await JsonAsync(bad)).GetProperty("errors").TryGetProperty("tests[0].assertions[0].kind", out _));
    }

    [Fact]
    public async Task Canary_at_full_share_serves_the_new_version_and_rollback_takes_effect_on_the_next_request()
    {
        var (appId, key) = await PublishedV1WithApprovedV2Async();
        Assert.Equal(FrontDoorFixture.LocalModel, await AnsweringModelAsync(key));

        var canary = await OkAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/2/canary", new { share = 1.0 }, FrontDoorFixture.ApproverToken);
        Assert.Equal(2, canary.GetProperty("release").GetProperty("canaryVersion").GetInt32());
        Assert.Equal(FrontDoorFixture.StandardModel, await AnsweringModelAsync(key));

        var rolledBack = await OkAsync(HttpMethod.Post, $"admin/apps/{appId}/rollback", new { reason = "answers got worse" }, FrontDoorFixture.ApproverToken);
        Assert.Equal(JsonValueKind.Null, rolledBack.GetProperty("release").GetProperty("canaryVersion").ValueKind);

        Assert.Equal(FrontDoorFixture.LocalModel, await AnsweringModelAsync(key));
        var v2 = await OkAsync(HttpMethod.Get, $"admin/apps/{appId}/versions/2", token: FrontDoorFixture.ViewerToken);
        Assert.Equal("rolledBack", v2.GetProperty("state").GetString());
        Assert.Equal("answers got worse", v2.GetProperty("history").EnumerateArray().Last().GetProperty("reason").GetString());

        var audited = await AuditedAsync(appId);
        Assert.Equal(
            ["app.created", "app.version.created", "app.canary.started", "app.rolled_back"],
            audited.Where(a => a.Action.StartsWith("app.", StringComparison.Ordinal)).Select(a => a.Action).ToArray());
        Assert.Contains(audited, a => a is { Action: "app.rolled_back", Actor: FrontDoorFixture.ApproverName } && a.Reason.Contains("answers got worse"));
    }

    /// <summary>The audit records on <c>app:{appId}</c>, oldest first.</summary>
    private async Task<List<AuditRecord>> AuditedAsync(string appId)
    {
        var log = Grains.GetGrain<IAuditLogGrain>("default");
        var records = new List<AuditRecord>();
        string? continuation = null;
        do
        {
            var page = await log.QueryAsync(new AuditQuery(Target: $"app:{appId}", PageSize: AuditQuery.MaxPageSize, Continuation: continuation));
            records.AddRange(page.Entries.Select(e => e.Record));
            continuation = page.Continuation;
        }
        while (continuation is not null);

        records.Reverse();
        return records;
    }

    [Fact]
    public async Task Promote_then_rollback_of_the_published_version_restores_the_previous_one_on_the_next_request()
    {
        var (appId, key) = await PublishedV1WithApprovedV2Async();

        await OkAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/2/promote", token: FrontDoorFixture.ApproverToken);
        Assert.Equal(FrontDoorFixture.StandardModel, await AnsweringModelAsync(key));

        var restored = await OkAsync(HttpMethod.Post, $"admin/apps/{appId}/rollback", new { reason = "cost doubled" });
        Assert.Equal(1, restored.GetProperty("release").GetProperty("publishedVersion").GetInt32());
        Assert.Equal(FrontDoorFixture.LocalModel, await AnsweringModelAsync(key));

        var versions = await OkAsync(HttpMethod.Get, $"admin/apps/{appId}/versions", token: FrontDoorFixture.ViewerToken);
        Assert.Equal(["published", "rolledBack"], versions.EnumerateArray().Select(v => v.GetProperty("state").GetString()!).ToArray());
    }

    [Fact]
    public async Task Refused_transitions_are_409_naming_the_state_and_unknown_versions_404()
    {
        var appId = FrontDoorFixture.NewAppId("lc");
        await OkAsync(HttpMethod.Post, "admin/apps", App(appId), FrontDoorFixture.AuthorToken, HttpStatusCode.Created);

        using (var promote = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/promote", token: FrontDoorFixture.ApproverToken))
        {
            Assert.Equal(HttpStatusCode.Conflict, promote.StatusCode);
            Assert.Contains("is draft; it can only move to submitted", (await JsonAsync(promote)).GetProperty("detail").GetString());
        }

        using (var unknown = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/9/canary", new { share = 0.2 }, FrontDoorFixture.ApproverToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        using (var badShare = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/canary", new { share = 2 }, FrontDoorFixture.ApproverToken))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badShare.StatusCode);
        }

        using (var byAuthor = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/versions/1/promote", token: FrontDoorFixture.AuthorToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, byAuthor.StatusCode);
        }

        using var nothing = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/rollback", new { reason = "x" });
        Assert.Equal(HttpStatusCode.Conflict, nothing.StatusCode);
    }

    [Fact]
    public async Task Feature_flags_are_set_by_the_owner_and_read_by_the_app_with_its_key()
    {
        var appId = FrontDoorFixture.NewAppId("lc");
        await OkAsync(HttpMethod.Post, "admin/apps", App(appId, owner: FrontDoorFixture.AuthorName, initialState: "published"), expected: HttpStatusCode.Created);
        var key = await Fixture.IssueKeyAsync(appId);

        await OkAsync(HttpMethod.Put, $"admin/apps/{appId}/flags/new-summary", new { enabled = true }, FrontDoorFixture.AuthorToken);
        using (var notOwner = await Fixture.AdminAsync(HttpMethod.Put, $"admin/apps/{appId}/flags/new-summary", new { enabled = false }, FrontDoorFixture.OtherAuthorToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, notOwner.StatusCode);
        }

        using (var badName = await Fixture.AdminAsync(HttpMethod.Put, $"admin/apps/{appId}/flags/Not%20Valid", new { enabled = true }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        }

        using (var flags = new HttpRequestMessage(HttpMethod.Get, "v1/flags"))
        {
            flags.Headers.Authorization = new("Bearer", key);
            using var response = await Fixture.Http.SendAsync(flags);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True((await JsonAsync(response)).GetProperty("flags").GetProperty("new-summary").GetBoolean());
        }

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "v1/flags");
        wrong.Headers.Authorization = new("Bearer", key[..^3] + "xyz");
        using var unauthorized = await Fixture.Http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("invalid_api_key", (await JsonAsync(unauthorized)).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_author_cannot_change_an_already_configured_budget_by_creating_an_app()
    {
        var budgetId = $"team:{FrontDoorFixture.NewAppId("shared")}";
        await OkAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 5m, period = "day" });

        object Body(object? budget) => new
        {
            appId = FrontDoorFixture.NewAppId("lc"),
            name = "Shares a team budget",
            owner = FrontDoorFixture.AuthorName,
            team = "lifecycle-tests",
            allowedTiers = new[] { "local" },
            budgetId,
            budget,
        };

        using (var refused = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", Body(new { limitUsd = 1000m, period = "day" }), FrontDoorFixture.AuthorToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains(budgetId, (await JsonAsync(refused)).GetProperty("detail").GetString());
        }

        var budget = await OkAsync(HttpMethod.Get, $"admin/budgets/{budgetId}");
        Assert.Equal(5m, budget.GetProperty("limitUsd").GetDecimal());

        // Joining the shared budget without changing it is the author's to do.
        await OkAsync(HttpMethod.Post, "admin/apps", Body(null), FrontDoorFixture.AuthorToken, HttpStatusCode.Created);
    }

    [Fact]
    public async Task Key_endpoints_refuse_another_author_before_looking_at_the_body()
    {
        var appId = FrontDoorFixture.NewAppId("lc");
        await OkAsync(HttpMethod.Post, "admin/apps", App(appId, owner: FrontDoorFixture.AuthorName), FrontDoorFixture.AuthorToken, HttpStatusCode.Created);

        // A label too long for either endpoint: the owner check must answer first, naming the owner, not the label.
        var tooLong = new { label = new string('x', 101) };
        foreach (var path in new[] { $"admin/apps/{appId}/keys", $"admin/apps/{appId}/test-keys" })
        {
            using (var notOwner = await Fixture.AdminAsync(HttpMethod.Post, path, tooLong, FrontDoorFixture.OtherAuthorToken))
            {
                Assert.Equal(HttpStatusCode.Forbidden, notOwner.StatusCode);
                Assert.Contains(FrontDoorFixture.AuthorName, await notOwner.Content.ReadAsStringAsync());
            }

            using var owner = await Fixture.AdminAsync(HttpMethod.Post, path, tooLong, FrontDoorFixture.AuthorToken);
            Assert.Equal(HttpStatusCode.BadRequest, owner.StatusCode);
            Assert.True((await JsonAsync(owner)).GetProperty("errors").TryGetProperty("label", out _));
        }
    }

    [Fact]
    public async Task A_retired_app_refuses_its_keys_and_cannot_be_resumed()
    {
        var appId = FrontDoorFixture.NewAppId("lc");
        var key = await Fixture.CreateAppWithKeyAsync(appId);

        using (var byApprover = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/retire", token: FrontDoorFixture.ApproverToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, byApprover.StatusCode);
        }

        var retired = await OkAsync(HttpMethod.Post, $"admin/apps/{appId}/retire");
        Assert.Equal("retired", retired.GetProperty("lifecycle").GetString());

        using (var call = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("auto", "hello")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, call.StatusCode);
            Assert.Contains("retired", (await JsonAsync(call)).GetProperty("error").GetProperty("message").GetString());
        }

        using var resume = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/resume");
        Assert.Equal(HttpStatusCode.Conflict, resume.StatusCode);
    }
}
