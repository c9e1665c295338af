using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Packs;
using MicroApps.Orleans.Prompts;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests.Packs;

/// <summary>App packs through the admin API: export, import, fork, upgrade, lineage, tampering and roles.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class PackEndpointsTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture)
{
    private async Task<(HttpStatusCode Status, JsonNode? Json, string Text)> CallAsync(HttpMethod method, string path, object? body = null, string token = FrontDoorFixture.AdminToken)
    {
        using var response = await Fixture.AdminAsync(method, path, body is JsonNode node ? node.ToJsonString() : body, token);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), text);
    }

    private async Task<JsonNode> OkAsync(HttpMethod method, string path, object? body = null, string token = FrontDoorFixture.AdminToken, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var (status, json, text) = await CallAsync(method, path, body, token);
        Assert.True(status == expected, $"{method} {path}: expected {(int)expected}, got {(int)status} {text}");
        return json!;
    }

    /// <summary>A published app pinning a fresh registry prompt, with one regression test.</summary>
    private async Task<(string AppId, string Prompt)> OriginalAsync(string prefix = "orig", string defaultTier = "local")
    {
        var appId = FrontDoorFixture.NewAppId(prefix);
        var prompt = $"pack-{Guid.NewGuid():N}"[..20];
        await OkAsync(HttpMethod.Post, "admin/prompts", new { name = prompt, text = "Answer in one short sentence." }, expected: HttpStatusCode.Created);
        await OkAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Pack source " + appId,
            owner = "tests@example.com",
            team = "pack-tests",
            audience = "internal",
            allowedTiers = new[] { "local", "standard" },
            defaultTier,
            quotas = new { requestsPerMinute = 100, tokensPerDay = 100_000 },
            prompts = new[] { new { name = prompt, version = 1 } },
            tests = new[] { new { name = "brief", input = "Summarise: packs travel.", assertions = new[] { new { kind = "max_tokens", value = "200" } } } },
            initialState = "published",
        }, expected: HttpStatusCode.Created);
        return (appId, prompt);
    }

    private Task<JsonNode> ExportAsync(string appId, int? version = null, string token = FrontDoorFixture.ViewerToken) =>
        OkAsync(HttpMethod.Get, $"admin/apps/{appId}/pack" + (version is null ? "" : $"?version={version}"), token: token);

    private static void Resign(JsonNode pack) =>
        pack["source"]!["digest"] = PackDigest.Of(pack["manifest"], pack["prompts"], pack["components"]);

    private static string[] Kinds(JsonNode lineage) => [.. lineage["steps"]!.AsArray().Select(s => (string)s!["kind"]!)];

    [Fact]
    public async Task Export_then_import_then_fork_keeps_the_original_as_canonical_with_import_then_fork_steps()
    {
        var (original, prompt) = await OriginalAsync();

        var pack = await ExportAsync(original);
        Assert.Equal(PackFormat.V1, (string?)pack["format"]);
        Assert.Equal(original, (string?)pack["canonical"]!["appId"]);
        Assert.Equal(1, (int?)pack["canonical"]!["version"]);
        Assert.False(pack["manifest"]!.AsObject().ContainsKey("lineage"));
        Assert.Equal("brief", (string?)pack["manifest"]!["tests"]![0]!["name"]);
        Assert.Equal("Answer in one short sentence.", (string?)pack["prompts"]![0]!["text"]);
        var digest = (string)pack["source"]!["digest"]!;

        var imported = FrontDoorFixture.NewAppId("imp");
        var import = await OkAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = pack.DeepClone(), ["appId"] = imported },
            FrontDoorFixture.AuthorToken, HttpStatusCode.Created);
        Assert.Equal("draft", (string?)import["state"]);
        Assert.Equal(FrontDoorFixture.AuthorName, (string?)import["owner"]);
        Assert.Equal(original, (string?)import["lineage"]!["canonical"]!["appId"]);
        Assert.Equal(["import"], Kinds(import["lineage"]!));
        var step = import["lineage"]!["steps"]![0]!;
        Assert.Equal((original, 1, digest, FrontDoorFixture.AuthorName),
            ((string?)step["fromAppId"], (int?)step["fromVersion"], (string?)step["packDigest"], (string?)step["actor"]));
        Assert.Empty(import["publishedPrompts"]!.AsArray());

        // The draft carries the manifest, its tests and its pins, with the lineage.
        var version = await OkAsync(HttpMethod.Get, $"admin/apps/{imported}/versions/1");
        Assert.Equal("brief", (string?)version["manifest"]!["tests"]![0]!["name"]);
        Assert.Equal(prompt, (string?)version["manifest"]!["prompts"]![0]!["name"]);
        Assert.Equal(original, (string?)version["manifest"]!["lineage"]!["canonicalAppId"]);

        // Bob forks alice's import: reading is open to everyone, and the fork is his.
        var forked = FrontDoorFixture.NewAppId("frk");
        var fork = await OkAsync(HttpMethod.Post, $"admin/apps/{imported}/fork", new { appId = forked, name = "Bob's fork" },
            FrontDoorFixture.OtherAuthorToken, HttpStatusCode.Created);
        Assert.Equal(FrontDoorFixture.OtherAuthorName, (string?)fork["owner"]);
        Assert.Equal(original, (string?)fork["lineage"]!["canonical"]!["appId"]);
        Assert.Equal(1, (int?)fork["lineage"]!["canonical"]!["version"]);
        Assert.Equal(["import", "fork"], Kinds(fork["lineage"]!));
        Assert.Equal(imported, (string?)fork["lineage"]!["steps"]![1]!["fromAppId"]);
        var forkedApp = await OkAsync(HttpMethod.Get, $"admin/apps/{forked}");
        Assert.Equal("Bob's fork", (string?)forkedApp["name"]);

        // Lineage both ways: the fork names its canonical source; the original and the import know what came from them.
        var forkLineage = await OkAsync(HttpMethod.Get, $"admin/apps/{forked}/lineage", token: FrontDoorFixture.ViewerToken);
        Assert.Equal(original, (string?)forkLineage["canonical"]!["appId"]);
        var originalLineage = await OkAsync(HttpMethod.Get, $"admin/apps/{original}/lineage", token: FrontDoorFixture.ViewerToken);
        Assert.Equal(original, (string?)originalLineage["canonical"]!["appId"]);
        Assert.Empty(originalLineage["steps"]!.AsArray());
        Assert.Contains(originalLineage["derived"]!.AsArray(), d => (string?)d!["appId"] == imported && (string?)d["kind"] == "import");
        Assert.DoesNotContain(originalLineage["derived"]!.AsArray(), d => (string?)d!["appId"] == forked);
        var importLineage = await OkAsync(HttpMethod.Get, $"admin/apps/{imported}/lineage", token: FrontDoorFixture.ViewerToken);
        Assert.Contains(importLineage["derived"]!.AsArray(), d => (string?)d!["appId"] == forked && (string?)d["kind"] == "fork");

        // Both changes are in the audit log.
        var audit = await OkAsync(HttpMethod.Get, $"admin/audit?target=app:{imported}&action=app.imported");
        Assert.Contains(audit["entries"]!.AsArray(), e => (string?)e!["actor"] == FrontDoorFixture.AuthorName);
        audit = await OkAsync(HttpMethod.Get, $"admin/audit?target=app:{forked}&action=app.forked");
        Assert.Contains(audit["entries"]!.AsArray(), e => (string?)e!["actor"] == FrontDoorFixture.OtherAuthorName);
    }

    [Fact]
    public async Task Repeating_an_import_returns_the_app_it_made_and_another_import_under_that_id_is_refused()
    {
        var (original, _) = await OriginalAsync();
        var pack = await ExportAsync(original);
        var imported = FrontDoorFixture.NewAppId("imp");
        var body = new JsonObject { ["pack"] = pack.DeepClone(), ["appId"] = imported };

        await OkAsync(HttpMethod.Post, "admin/packs/import", body, FrontDoorFixture.AuthorToken, HttpStatusCode.Created);
        var again = await OkAsync(HttpMethod.Post, "admin/packs/import", body, FrontDoorFixture.AuthorToken, HttpStatusCode.OK);
        Assert.Equal(["import"], Kinds(again["lineage"]!));

        var (status, _, text) = await CallAsync(HttpMethod.Post, "admin/packs/import", body, FrontDoorFixture.ApproverToken);
        Assert.True(status == HttpStatusCode.Conflict, text);
        Assert.Contains(imported, text);
    }

    [Fact]
    public async Task A_newer_export_of_the_canonical_source_upgrades_the_import_as_a_new_draft_version()
    {
        var (original, _) = await OriginalAsync();
        var imported = FrontDoorFixture.NewAppId("imp");
        await OkAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = await ExportAsync(original), ["appId"] = imported },
            FrontDoorFixture.AuthorToken, HttpStatusCode.Created);

        await OkAsync(HttpMethod.Post, $"admin/apps/{original}/versions", new { defaultTier = "standard" }, expected: HttpStatusCode.Created);
        var newer = await ExportAsync(original, version: 2);
        Assert.Equal(original, (string?)newer["canonical"]!["appId"]);

        var upgrade = await OkAsync(HttpMethod.Post, $"admin/apps/{imported}/pack/upgrade", new JsonObject { ["pack"] = newer.DeepClone() },
            FrontDoorFixture.AuthorToken, HttpStatusCode.Created);
        Assert.Equal(2, (int?)upgrade["version"]);
        Assert.Equal("draft", (string?)upgrade["state"]);
        Assert.Equal(["import", "upgrade"], Kinds(upgrade["lineage"]!));
        Assert.Equal(2, (int?)upgrade["lineage"]!["steps"]![1]!["fromVersion"]);
        Assert.Equal(original, (string?)upgrade["lineage"]!["canonical"]!["appId"]);

        var v2 = await OkAsync(HttpMethod.Get, $"admin/apps/{imported}/versions/2");
        Assert.Equal("standard", (string?)v2["manifest"]!["defaultTier"]);
        Assert.Equal(FrontDoorFixture.AuthorName, (string?)v2["manifest"]!["owner"]);

        // The same pack again is not newer than what the app now came from.
        var (status, _, text) = await CallAsync(HttpMethod.Post, $"admin/apps/{imported}/pack/upgrade", new JsonObject { ["pack"] = newer.DeepClone() }, FrontDoorFixture.AuthorToken);
        Assert.True(status == HttpStatusCode.Conflict, text);
        Assert.Contains("newer", text);

        var audit = await OkAsync(HttpMethod.Get, $"admin/audit?target=app:{imported}&action=app.pack.upgraded");
        Assert.NotEmpty(audit["entries"]!.AsArray());
    }

    [Fact]
    public async Task An_upgrade_from_a_pack_of_another_canonical_source_is_refused_naming_both()
    {
        var (original, _) = await OriginalAsync();
        var (stranger, _) = await OriginalAsync("strange");
        var imported = FrontDoorFixture.NewAppId("imp");
        await OkAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = await ExportAsync(original), ["appId"] = imported },
            FrontDoorFixture.AuthorToken, HttpStatusCode.Created);

        var (status, _, text) = await CallAsync(HttpMethod.Post, $"admin/apps/{imported}/pack/upgrade",
            new JsonObject { ["pack"] = await ExportAsync(stranger) }, FrontDoorFixture.AuthorToken);

        Assert.True(status == HttpStatusCode.Conflict, text);
        Assert.Contains($"{stranger}@1", text);
        Assert.Contains($"{original}@1", text);
        var versions = await OkAsync(HttpMethod.Get, $"admin/apps/{imported}/versions");
        Assert.Single(versions.AsArray());

        // An app created from nothing has no canonical source to upgrade from.
        (status, _, text) = await CallAsync(HttpMethod.Post, $"admin/apps/{stranger}/pack/upgrade", new JsonObject { ["pack"] = await ExportAsync(original) });
        Assert.True(status == HttpStatusCode.Conflict, text);
        Assert.Contains("no canonical source", text);
    }

    [Fact]
    public async Task A_pack_changed_after_export_is_refused_naming_the_digest()
    {
        var (original, _) = await OriginalAsync();
        var pack = await ExportAsync(original);
        pack["manifest"]!["defaultTier"] = "standard";

        var (status, json, text) = await CallAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = pack, ["appId"] = FrontDoorFixture.NewAppId("imp") });

        Assert.True(status == HttpStatusCode.BadRequest, text);
        Assert.NotNull(json!["errors"]!["pack.source.digest"]);
    }

    [Fact]
    public async Task An_invalid_manifest_in_a_pack_is_refused_naming_the_field_inside_the_pack()
    {
        var (original, _) = await OriginalAsync();
        var pack = await ExportAsync(original);
        pack["manifest"]!["defaultTier"] = "premium";
        Resign(pack);

        var (status, json, text) = await CallAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = pack, ["appId"] = FrontDoorFixture.NewAppId("imp") });

        Assert.True(status == HttpStatusCode.BadRequest, text);
        Assert.NotNull(json!["errors"]!["pack.manifest.defaultTier"]);
    }

    [Fact]
    public async Task A_pack_prompt_that_exists_here_with_other_text_is_refused_naming_it()
    {
        var (original, prompt) = await OriginalAsync();
        var pack = await ExportAsync(original);
        pack["prompts"]![0]!["text"] = "Answer at length.";
        pack["prompts"]![0]!["contentHash"] = PromptNames.Hash("Answer at length.");
        Resign(pack);
        var imported = FrontDoorFixture.NewAppId("imp");

        var (status, _, text) = await CallAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = pack, ["appId"] = imported });

        Assert.True(status == HttpStatusCode.Conflict, text);
        Assert.Contains($"{prompt}@1", text);
        var (missing, _, _) = await CallAsync(HttpMethod.Get, $"admin/apps/{imported}");
        Assert.Equal(HttpStatusCode.NotFound, missing);
    }

    [Fact]
    public async Task A_pack_prompt_missing_here_is_recreated_and_the_pin_follows_its_new_number()
    {
        // As if from another cluster: the pack pins a prompt this registry has never seen, at version 3.
        var (original, _) = await OriginalAsync();
        var pack = await ExportAsync(original);
        var name = $"far-{Guid.NewGuid():N}"[..20];
        pack["manifest"]!["prompts"]![0]!["name"] = name;
        pack["manifest"]!["prompts"]![0]!["version"] = 3;
        pack["prompts"]![0]!["name"] = name;
        pack["prompts"]![0]!["version"] = 3;
        Resign(pack);
        var imported = FrontDoorFixture.NewAppId("imp");

        var import = await OkAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = pack, ["appId"] = imported },
            FrontDoorFixture.AuthorToken, HttpStatusCode.Created);

        Assert.Equal([$"{name}@1"], import["publishedPrompts"]!.AsArray().Select(p => (string?)p));
        Assert.Equal($"{name}@1", (string?)import["remappedPrompts"]![$"{name}@3"]);
        var recreated = await OkAsync(HttpMethod.Get, $"admin/prompts/{name}/versions/1");
        Assert.Equal("Answer in one short sentence.", (string?)recreated["text"]);
        var version = await OkAsync(HttpMethod.Get, $"admin/apps/{imported}/versions/1");
        Assert.Equal(1, (int?)version["manifest"]!["prompts"]![0]!["version"]);
    }

    [Fact]
    public async Task Roles_decide_who_imports_for_whom_and_who_upgrades()
    {
        var (original, _) = await OriginalAsync();
        var pack = await ExportAsync(original);

        var (viewer, _, _) = await CallAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = pack.DeepClone() }, FrontDoorFixture.ViewerToken);
        Assert.Equal(HttpStatusCode.Forbidden, viewer);

        // An author imports only for themselves; an approver may import for someone else.
        var (forOther, _, text) = await CallAsync(HttpMethod.Post, "admin/packs/import",
            new JsonObject { ["pack"] = pack.DeepClone(), ["appId"] = FrontDoorFixture.NewAppId("imp"), ["owner"] = FrontDoorFixture.OtherAuthorName }, FrontDoorFixture.AuthorToken);
        Assert.True(forOther == HttpStatusCode.Forbidden, text);
        var imported = FrontDoorFixture.NewAppId("imp");
        var byApprover = await OkAsync(HttpMethod.Post, "admin/packs/import",
            new JsonObject { ["pack"] = pack.DeepClone(), ["appId"] = imported, ["owner"] = FrontDoorFixture.AuthorName }, FrontDoorFixture.ApproverToken, HttpStatusCode.Created);
        Assert.Equal(FrontDoorFixture.AuthorName, (string?)byApprover["owner"]);
        Assert.Equal(FrontDoorFixture.ApproverName, (string?)byApprover["lineage"]!["steps"]![0]!["actor"]);

        // Only the owner (or an admin) upgrades the app.
        await OkAsync(HttpMethod.Post, $"admin/apps/{original}/versions", new { defaultTier = "standard" }, expected: HttpStatusCode.Created);
        var newer = await ExportAsync(original, version: 2);
        var (bob, _, bobText) = await CallAsync(HttpMethod.Post, $"admin/apps/{imported}/pack/upgrade", new JsonObject { ["pack"] = newer.DeepClone() }, FrontDoorFixture.OtherAuthorToken);
        Assert.True(bob == HttpStatusCode.Forbidden, bobText);
        Assert.Contains(FrontDoorFixture.AuthorName, bobText);
    }

    [Fact]
    public async Task Catalog_components_travel_in_the_pack_and_are_published_by_approvers_or_refused_when_they_differ()
    {
        var grains = Fixture.FrontDoor.Services.GetRequiredService<IGrainFactory>();
        var catalog = grains.GetGrain<ICatalogGrain>("default");
        var chain = $"chain-{Guid.NewGuid():N}"[..20];
        await catalog.PublishAsync(new CatalogEntry(CatalogKind.Chain, chain, "1.0.0", "pack-tests", "polishes", ["tone"], Certified: true, SafeUpgrade: false,
            [], "", [new ChainStep("polish", "Polish this: {{input}}")], DateTimeOffset.UtcNow, "approver"));
        var original = FrontDoorFixture.NewAppId("comp");
        await grains.GetGrain<IMicroAppGrain>(original).CreateAsync(new AppManifest(
            "With a chain", "tests@example.com", "pack-tests", Audience.Internal, [], ["local"], "local", AppQuotas.Default, "", "v1",
            Components: [new CatalogRef(chain, "1.0.0")]));

        var pack = await ExportAsync(original);
        Assert.Equal("chain", (string?)pack["components"]![0]!["kind"]);
        Assert.Equal("Polish this: {{input}}", (string?)pack["components"]![0]!["steps"]![0]!["prompt"]);

        // The same chain with another body under the same version: refused, naming it.
        var differs = pack.DeepClone();
        differs["components"]![0]!["description"] = "does something else";
        Resign(differs);
        var (status, _, text) = await CallAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = differs, ["appId"] = FrontDoorFixture.NewAppId("imp") });
        Assert.True(status == HttpStatusCode.Conflict, text);
        Assert.Contains($"{chain}@1.0.0", text);

        // A chain this catalog lacks (as if from another cluster): an author may not publish it, an approver's import does.
        var far = $"far-{Guid.NewGuid():N}"[..20];
        var foreign = pack.DeepClone();
        foreign["manifest"]!["components"] = new JsonArray($"{far}@1.0.0");
        foreign["components"]![0]!["name"] = far;
        Resign(foreign);
        (status, _, text) = await CallAsync(HttpMethod.Post, "admin/packs/import",
            new JsonObject { ["pack"] = foreign.DeepClone(), ["appId"] = FrontDoorFixture.NewAppId("imp") }, FrontDoorFixture.AuthorToken);
        Assert.True(status == HttpStatusCode.Forbidden, text);
        Assert.Contains($"{far}@1.0.0", text);
        Assert.Null(await catalog.GetAsync(CatalogKind.Chain, new CatalogRef(far, "1.0.0")));

        var import = await OkAsync(HttpMethod.Post, "admin/packs/import",
            new JsonObject { ["pack"] = foreign.DeepClone(), ["appId"] = FrontDoorFixture.NewAppId("imp"), ["owner"] = FrontDoorFixture.AuthorName },
            FrontDoorFixture.ApproverToken, HttpStatusCode.Created);
        Assert.Equal([$"{far}@1.0.0"], import["publishedComponents"]!.AsArray().Select(c => (string?)c));
        var published = await catalog.GetAsync(CatalogKind.Chain, new CatalogRef(far, "1.0.0"));
        Assert.NotNull(published);
        Assert.False(published.Certified);
        Assert.Equal(FrontDoorFixture.ApproverName, published.PublishedBy);
        var version = await OkAsync(HttpMethod.Get, $"admin/apps/{import["appId"]}/versions/1");
        Assert.Equal([$"{far}@1.0.0"], version["manifest"]!["components"]!.AsArray().Select(c => (string?)c));
    }

    [Fact]
    public async Task A_template_app_travels_with_its_parameters_and_a_bad_parameter_is_named_inside_the_pack()
    {
        var original = FrontDoorFixture.NewAppId("tmpl");
        await OkAsync(HttpMethod.Post, "admin/apps", new
        {
            appId = original,
            name = "Summaries",
            owner = "tests@example.com",
            team = "pack-tests",
            audience = "internal",
            allowedTiers = new[] { "local" },
            defaultTier = "local",
            template = "summarizer@1.0.0",
            parameters = new { instructions = "Three bullet points.", chunkTokens = 800 },
            limits = new { maxTokens = 5000 },
            initialState = "published",
        }, expected: HttpStatusCode.Created);
        var pack = await ExportAsync(original);
        Assert.Equal("summarizer@1.0.0", (string?)pack["manifest"]!["template"]);

        var imported = FrontDoorFixture.NewAppId("imp");
        await OkAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = pack.DeepClone(), ["appId"] = imported },
            FrontDoorFixture.AuthorToken, HttpStatusCode.Created);
        var version = await OkAsync(HttpMethod.Get, $"admin/apps/{imported}/versions/1");
        Assert.Equal("summarizer@1.0.0", (string?)version["manifest"]!["template"]);
        Assert.Equal("Three bullet points.", (string?)version["manifest"]!["parameters"]!["instructions"]);
        Assert.Equal("800", (string?)version["manifest"]!["parameters"]!["chunkTokens"]);
        Assert.Equal(5000, (int?)version["manifest"]!["limits"]!["maxTokens"]);

        var bad = pack.DeepClone();
        bad["manifest"]!["parameters"]!["chunkTokens"] = "lots";
        Resign(bad);
        var (status, json, text) = await CallAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = bad, ["appId"] = FrontDoorFixture.NewAppId("imp") });
        Assert.True(status == HttpStatusCode.BadRequest, text);
        Assert.NotNull(json!["errors"]!["pack.manifest.parameters.chunkTokens"]);

        var unknown = pack.DeepClone();
        unknown["manifest"]!["colour"] = "blue";
        Resign(unknown);
        (status, json, text) = await CallAsync(HttpMethod.Post, "admin/packs/import", new JsonObject { ["pack"] = unknown, ["appId"] = FrontDoorFixture.NewAppId("imp") });
        Assert.True(status == HttpStatusCode.BadRequest, text);
        Assert.Contains(json!["errors"]!.AsObject(), e => e.Key.StartsWith("pack.manifest", StringComparison.Ordinal) && e.Value!.ToJsonString().Contains("colour"));
    }

    [Fact]
    public async Task Export_answers_404_for_an_unknown_app_or_version_and_400_for_a_bad_version()
    {
        var (original, _) = await OriginalAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await CallAsync(HttpMethod.Get, "admin/apps/no-such-app-here/pack")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await CallAsync(HttpMethod.Get, $"admin/apps/{original}/pack?version=9")).Status);
        var (status, json, _) = await CallAsync(HttpMethod.Get, $"admin/apps/{original}/pack?version=two");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(json!["errors"]!["version"]);
        var (fork, forkJson, _) = await CallAsync(HttpMethod.Post, $"admin/apps/{original}/fork", new { });
        Assert.Equal(HttpStatusCode.BadRequest, fork);
        Assert.NotNull(forkJson!["errors"]!["appId"]);
    }
}
