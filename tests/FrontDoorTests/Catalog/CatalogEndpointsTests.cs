using System.Net;
using System.Text.Json;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests.Catalog;

/// <summary>
/// The catalog admin API end to end: search, publishing components, safe patches and proposed upgrades, accepting an
/// upgrade, usage and reuse after real calls, retirement candidates and retiring. Most apps built on the catalog are created
/// through the app grain with their catalog references set; one goes through POST /admin/apps with template and components.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class CatalogEndpointsTests(FrontDoorFixture fixture)
{
    private IGrainFactory Grains => fixture.FrontDoor.Services.GetRequiredService<IGrainFactory>();

    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    private async Task<JsonElement> ExpectAsync(HttpStatusCode status, HttpMethod method, string path, object? body = null, string token = FrontDoorFixture.AdminToken)
    {
        using var response = await fixture.AdminAsync(method, path, body, token);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{method} {path}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The audit entries with this target, as (action, reason).</summary>
    private async Task<List<(string Action, string Reason)>> AuditAsync(string target)
    {
        var page = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"admin/audit?target={Uri.EscapeDataString(target)}");
        return page.GetProperty("entries").EnumerateArray()
            .Select(e => (e.GetProperty("action").GetString()!, e.GetProperty("reason").GetString()!))
            .ToList();
    }

    private static object PromptBody(string name, string version, string text = "Write for {{audience}} in our voice.", bool safe = false, string tag = "voice") => new
    {
        name,
        version,
        owner = "brand-team",
        description = "Our brand voice for " + name,
        tags = new[] { tag, "brand" },
        text,
        safeUpgrade = safe,
    };

    /// <summary>A published app owned by author-alice with the given catalog references, registered like the admin API does.</summary>
    private async Task<string> CatalogAppAsync(CatalogRef? template = null, CatalogRef[]? components = null, string[]? tiers = null)
    {
        var appId = FrontDoorFixture.NewAppId("cat");
        var allowed = tiers ?? ["local"];
        var manifest = new AppManifest("Catalog app " + appId, FrontDoorFixture.AuthorName, "catalog-tests", Audience.Internal, [], allowed, allowed[0],
            new AppQuotas(1000, 10_000_000), "", "v1", Template: template, Components: components);
        await Grains.GetGrain<IMicroAppGrain>(appId).CreateAsync(manifest);
        await Grains.GetGrain<IAppRegistryGrain>(0).RegisterAsync(appId);
        return appId;
    }

    [Fact]
    public async Task Search_finds_entries_by_name_kind_and_tag_and_names_a_bad_kind()
    {
        var byName = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "admin/catalog?search=summarizer", token: FrontDoorFixture.ViewerToken);
        var summarizer = byName.EnumerateArray().Single(e => e.GetProperty("name").GetString() == BuiltIns.Summarizer);
        Assert.Equal("template", summarizer.GetProperty("kind").GetString());
        Assert.Equal("summarizer@1.0.0", summarizer.GetProperty("reference").GetString());
        Assert.True(summarizer.GetProperty("usage").GetProperty("apps").GetInt32() >= 0);

        var tag = NewName("tag");
        var name = NewName("tagged");
        await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "1.0.0", tag: tag), FrontDoorFixture.ApproverToken);
        var byTag = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"admin/catalog?tag={tag}");
        Assert.Equal(name, Assert.Single(byTag.EnumerateArray()).GetProperty("name").GetString());

        var connectors = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "admin/catalog?kind=connector&tag=http");
        Assert.Equal([BuiltIns.HttpJson, BuiltIns.Webhook], connectors.EnumerateArray().Select(e => e.GetProperty("name").GetString()).Order());

        var bad = await ExpectAsync(HttpStatusCode.BadRequest, HttpMethod.Get, "admin/catalog?kind=gadget&allVersions=maybe");
        Assert.True(bad.GetProperty("errors").TryGetProperty("kind", out _));
        Assert.True(bad.GetProperty("errors").TryGetProperty("allVersions", out _));

        await ExpectAsync(HttpStatusCode.NotFound, HttpMethod.Get, $"admin/catalog/prompt/{NewName("none")}");
        var versions = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "admin/catalog/templates/summarizer");
        Assert.Equal("summarizer@1.0.0", versions.GetProperty("latest").GetString());
    }

    [Fact]
    public async Task Publishing_is_validated_idempotent_refused_for_a_different_body_and_for_authors()
    {
        var name = NewName("voice");

        var invalid = await ExpectAsync(HttpStatusCode.BadRequest, HttpMethod.Post, "admin/catalog/prompts",
            new { name = "Not Valid", version = "1", description = "", text = "Hi {{ 1st }}" }, FrontDoorFixture.ApproverToken);
        var errors = invalid.GetProperty("errors");
        foreach (var field in new[] { "name", "version", "description", "text" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"errors name {field}: {errors}");
        }

        await ExpectAsync(HttpStatusCode.Forbidden, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "1.0.0"), FrontDoorFixture.AuthorToken);
        var created = await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "1.0.0"), FrontDoorFixture.ApproverToken);
        Assert.Equal("audience", Assert.Single(created.GetProperty("parameters").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(FrontDoorFixture.ApproverName, created.GetProperty("publishedBy").GetString());

        await ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "1.0.0"), FrontDoorFixture.ApproverToken);
        var conflict = await ExpectAsync(HttpStatusCode.Conflict, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "1.0.0", text: "Something else."));
        Assert.Contains("different body", conflict.GetProperty("detail").GetString());

        var chain = await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/catalog/chains", new
        {
            name = NewName("chain"),
            version = "1.0.0",
            description = "Draft then polish.",
            steps = new[] { new { name = "draft", prompt = "Draft a reply for {{customer}}." }, new { name = "polish", prompt = "Polish it." } },
        });
        Assert.Equal(2, chain.GetProperty("steps").GetArrayLength());
        Assert.Equal("admin", chain.GetProperty("owner").GetString());

        // Published once: the repeat changed nothing and is not audited again.
        var audit = await AuditAsync($"catalog:prompt:{name}@1.0.0");
        Assert.Equal("catalog.published", Assert.Single(audit).Action);
    }

    [Fact]
    public async Task A_safe_patch_is_what_an_app_runs_a_minor_version_is_proposed_and_accepting_adds_a_draft_version()
    {
        var name = NewName("voice");
        await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "1.0.0"), FrontDoorFixture.ApproverToken);
        await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "1.0.1", "Write for {{audience}}, briefly.", safe: true), FrontDoorFixture.ApproverToken);
        await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "1.1.0", "Write warmly for {{audience}}."), FrontDoorFixture.ApproverToken);
        var appId = await CatalogAppAsync(components: [new CatalogRef(name, "1.0.0")]);

        var pinned = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"admin/catalog/prompt/{name}/1.0.0");
        Assert.Equal($"{name}@1.0.1", pinned.GetProperty("resolvesTo").GetString());

        var upgrades = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"admin/apps/{appId}/upgrades", token: FrontDoorFixture.ViewerToken);
        Assert.Equal($"{name}@1.0.1", Assert.Single(upgrades.GetProperty("automatic").EnumerateArray()).GetProperty("available").GetString());
        var proposal = Assert.Single(upgrades.GetProperty("proposals").EnumerateArray());
        Assert.Equal($"{name}@1.1.0", proposal.GetProperty("available").GetString());
        Assert.Contains("minor", proposal.GetProperty("reason").GetString());

        await ExpectAsync(HttpStatusCode.Forbidden, HttpMethod.Post, $"admin/apps/{appId}/upgrades/accept", new { }, FrontDoorFixture.OtherAuthorToken);
        var notOffered = await ExpectAsync(HttpStatusCode.BadRequest, HttpMethod.Post, $"admin/apps/{appId}/upgrades/accept",
            new { references = new[] { $"{name}@9.0.0" } }, FrontDoorFixture.AuthorToken);
        Assert.True(notOffered.GetProperty("errors").TryGetProperty("references[0]", out _));

        var accepted = await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, $"admin/apps/{appId}/upgrades/accept", new { }, FrontDoorFixture.AuthorToken);
        Assert.Equal(2, accepted.GetProperty("version").GetInt32());
        Assert.Equal("draft", accepted.GetProperty("state").GetString());
        Assert.Equal($"{name}@1.1.0", Assert.Single(accepted.GetProperty("manifest").GetProperty("components").EnumerateArray()).GetString());

        // The draft goes through the lifecycle; production still runs version 1 until it is published.
        var version = await Grains.GetGrain<IMicroAppGrain>(appId).GetVersionAsync(2);
        Assert.Equal(VersionState.Draft, version!.State);
        Assert.Equal(FrontDoorFixture.AuthorName, version.Author);
        var app = await Grains.GetGrain<IMicroAppGrain>(appId).GetAsync();
        Assert.Equal(1, app!.Release!.PublishedVersion);

        var after = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"admin/apps/{appId}/upgrades");
        Assert.Equal(2, after.GetProperty("version").GetInt32());
        Assert.Empty(after.GetProperty("proposals").EnumerateArray());
        await ExpectAsync(HttpStatusCode.Conflict, HttpMethod.Post, $"admin/apps/{appId}/upgrades/accept", new { }, FrontDoorFixture.AuthorToken);

        var audit = await AuditAsync($"app:{appId}");
        Assert.Contains(audit, a => a.Action == "app.upgrades.accepted" && a.Reason.Contains($"{name}@1.0.0 → {name}@1.1.0"));
    }

    [Fact]
    public async Task Usage_and_the_reuse_rate_count_an_apps_calls_after_it_makes_them()
    {
        var name = NewName("usage");
        await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "1.0.0"), FrontDoorFixture.ApproverToken);
        var appId = await CatalogAppAsync(template: new CatalogRef(BuiltIns.ChatAssistant, "1.0.0"), components: [new CatalogRef(name, "1.0.0")]);
        var key = await fixture.IssueKeyAsync(appId);
        for (var i = 0; i < 3; i++)
        {
            using var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.LocalModel, $"hello {i} from {appId}"));
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        // Traces are written after the answer and the live hour is reused for a few seconds: poll (bounded).
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement usage;
        while (true)
        {
            usage = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "admin/catalog/usage?days=1", token: FrontDoorFixture.ViewerToken);
            var entry = usage.GetProperty("byVersion").EnumerateArray().SingleOrDefault(u => u.GetProperty("name").GetString() == name);
            if (entry.ValueKind == JsonValueKind.Object && entry.GetProperty("calls").GetInt64() == 3)
            {
                Assert.Equal(1, entry.GetProperty("apps").GetInt32());
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the 3 calls were not counted for {name} within 60 s: {usage}");
            await Task.Yield();
        }

        var reuse = usage.GetProperty("reuse");
        Assert.True(reuse.GetProperty("callsOnCatalog").GetInt64() >= 3);
        Assert.InRange(reuse.GetProperty("appsShare").GetDouble(), 0.000001, 1);
        Assert.InRange(reuse.GetProperty("callsShare").GetDouble(), 0.000001, 1);
        var chat = usage.GetProperty("byName").EnumerateArray().Single(u => u.GetProperty("name").GetString() == BuiltIns.ChatAssistant);
        Assert.True(chat.GetProperty("calls").GetInt64() >= 3);

        var listed = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"admin/catalog?search={name}");
        var listedUsage = Assert.Single(listed.EnumerateArray()).GetProperty("usage");
        Assert.Equal((1, 3L), (listedUsage.GetProperty("apps").GetInt32(), listedUsage.GetProperty("calls").GetInt64()));

        var kpis = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "admin/kpis");
        var rate = kpis.GetProperty("reuseRate");
        Assert.InRange(rate.GetProperty("value").GetDouble(), 0.000001, 1);
        Assert.True(rate.GetProperty("callsOnCatalog").GetInt64() >= 3);
        Assert.Equal(JsonValueKind.Null, rate.GetProperty("reason").ValueKind);

        await ExpectAsync(HttpStatusCode.BadRequest, HttpMethod.Get, "admin/catalog/usage?days=0");
    }

    [Fact]
    public async Task A_little_used_costly_app_is_listed_and_retiring_it_revokes_its_keys_and_closes_its_budget()
    {
        var appId = FrontDoorFixture.NewAppId("cat-ret");
        var key = await fixture.CreateAppWithKeyAsync(appId, allowedTiers: ["standard"], budgetLimitUsd: 25m);
        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "an expensive question from " + appId)))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        // One paid call in a day is little use; any cost counts as high here, so the app is a candidate once its call is rolled up.
        var path = "admin/catalog/retirement?days=1&maxCallsPerDay=2&minCostUsd=0.00000001";
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement candidate;
        while (true)
        {
            var report = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, path, token: FrontDoorFixture.ViewerToken);
            candidate = report.GetProperty("candidates").EnumerateArray().SingleOrDefault(c => c.GetProperty("appId").GetString() == appId);
            if (candidate.ValueKind == JsonValueKind.Object)
            {
                Assert.Equal(2, report.GetProperty("criteria").GetProperty("maxCallsPerDay").GetDouble());
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{appId} was not listed within 60 s: {report}");
            await Task.Yield();
        }

        Assert.Equal(1, candidate.GetProperty("calls").GetInt64());
        Assert.True(candidate.GetProperty("costUsd").GetDecimal() > 0m);
        Assert.Equal($"app:{appId}", candidate.GetProperty("budgetId").GetString());

        var defaults = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, "admin/catalog/retirement");
        Assert.Equal((30, 1d, 1m), (defaults.GetProperty("criteria").GetProperty("days").GetInt32(),
            defaults.GetProperty("criteria").GetProperty("maxCallsPerDay").GetDouble(), defaults.GetProperty("criteria").GetProperty("minCostUsd").GetDecimal()));
        await ExpectAsync(HttpStatusCode.BadRequest, HttpMethod.Get, "admin/catalog/retirement?minCostUsd=-1");

        await ExpectAsync(HttpStatusCode.Forbidden, HttpMethod.Post, $"admin/apps/{appId}/retire", token: FrontDoorFixture.ViewerToken);
        var keyId = (await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"admin/apps/{appId}")).GetProperty("keys")[0].GetProperty("keyId").GetString();
        var retired = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, $"admin/apps/{appId}/retire");

        Assert.Equal("retired", retired.GetProperty("lifecycle").GetString());
        var freed = retired.GetProperty("freed");
        Assert.Equal([keyId], freed.GetProperty("keysRevoked").EnumerateArray().Select(k => k.GetString()));
        Assert.True(freed.GetProperty("budget").GetProperty("closed").GetBoolean());
        Assert.Equal(25m, freed.GetProperty("budget").GetProperty("freedLimitUsd").GetDecimal());
        Assert.All(retired.GetProperty("keys").EnumerateArray(), k => Assert.NotEqual(JsonValueKind.Null, k.GetProperty("revokedAt").ValueKind));

        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "still there?")))
        {
            Assert.True(call.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"a retired app's key: {(int)call.StatusCode}");
        }

        // The budget no longer counts as allocated: the budget API knows no limit for it, the app shows none.
        await ExpectAsync(HttpStatusCode.NotFound, HttpMethod.Get, $"admin/budgets/app:{appId}");
        var view = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"admin/apps/{appId}");
        Assert.False(view.GetProperty("budgetConfigured").GetBoolean());
        Assert.Equal(0m, view.GetProperty("limitUsd").GetDecimal());
        var snapshot = await Grains.GetGrain<Budgets.IBudgetGrain>($"app:{appId}").GetAsync();
        Assert.NotNull(snapshot.ClosedAt);
        Assert.Equal(Budgets.ReservationOutcome.NotConfigured, (await Grains.GetGrain<Budgets.IBudgetGrain>($"app:{appId}").ReserveAsync($"{appId}/after-retire", 0.001m)).Outcome);

        var after = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, path);
        Assert.DoesNotContain(after.GetProperty("candidates").EnumerateArray(), c => c.GetProperty("appId").GetString() == appId);

        // A repeat frees nothing more.
        var again = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, $"admin/apps/{appId}/retire");
        Assert.Empty(again.GetProperty("freed").GetProperty("keysRevoked").EnumerateArray());
        Assert.False(again.GetProperty("freed").GetProperty("budget").GetProperty("closed").GetBoolean());

        var audit = await AuditAsync($"app:{appId}");
        var retirement = Assert.Single(audit, a => a.Action == "app.retired");
        Assert.Contains("1 key(s) revoked", retirement.Reason);
        Assert.Contains("closed", retirement.Reason);
    }

    [Fact]
    public async Task Retiring_an_app_on_a_shared_team_budget_leaves_that_budget_open()
    {
        var team = "team:" + NewName("shared");
        var (retiring, staying) = (FrontDoorFixture.NewAppId("cat-team"), FrontDoorFixture.NewAppId("cat-team"));
        foreach (var appId in new[] { retiring, staying })
        {
            await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/apps", new
            {
                appId, name = "Team app", owner = "tests@example.com", team = "catalog-tests", audience = "internal",
                dataClasses = Array.Empty<string>(), allowedTiers = new[] { "local" }, defaultTier = "local",
                budgetId = team, budget = new { limitUsd = 40m, period = "month" }, initialState = "published",
            });
        }

        var retired = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, $"admin/apps/{retiring}/retire");

        var budget = retired.GetProperty("freed").GetProperty("budget");
        Assert.False(budget.GetProperty("closed").GetBoolean());
        Assert.Contains("shared", budget.GetProperty("detail").GetString());
        var snapshot = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"admin/budgets/{team}");
        Assert.Equal(40m, snapshot.GetProperty("limitUsd").GetDecimal());
        Assert.True(snapshot.GetProperty("configured").GetBoolean());
    }

    [Fact]
    public async Task An_app_created_through_the_admin_api_from_a_template_and_a_component_is_offered_the_components_upgrade()
    {
        var name = NewName("voice");
        await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "1.0.0"), FrontDoorFixture.ApproverToken);
        var appId = FrontDoorFixture.NewAppId("cat-api");
        await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/apps", new
        {
            appId, name = "Summaries", owner = FrontDoorFixture.AuthorName, team = "catalog-tests", audience = "internal",
            dataClasses = Array.Empty<string>(), allowedTiers = new[] { "local" }, defaultTier = "local",
            template = "summarizer@1.0.0", parameters = new { tier = "local" }, components = new[] { $"{name}@1.0.0" },
        }, FrontDoorFixture.AuthorToken);
        await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, "admin/catalog/prompts", PromptBody(name, "2.0.0", "Write formally for {{audience}}."), FrontDoorFixture.ApproverToken);

        var upgrades = await ExpectAsync(HttpStatusCode.OK, HttpMethod.Get, $"admin/apps/{appId}/upgrades");

        Assert.Contains(upgrades.GetProperty("references").EnumerateArray(), r => r.GetProperty("reference").GetString() == "summarizer@1.0.0");
        var proposal = Assert.Single(upgrades.GetProperty("proposals").EnumerateArray());
        Assert.Equal($"{name}@2.0.0", proposal.GetProperty("available").GetString());
        Assert.Contains("major", proposal.GetProperty("reason").GetString());

        var accepted = await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, $"admin/apps/{appId}/upgrades/accept",
            new { references = new[] { $"{name}@2.0.0" } }, FrontDoorFixture.AuthorToken);
        Assert.Equal("summarizer@1.0.0", accepted.GetProperty("manifest").GetProperty("template").GetString());
        Assert.Equal($"{name}@2.0.0", Assert.Single(accepted.GetProperty("manifest").GetProperty("components").EnumerateArray()).GetString());
    }
}
