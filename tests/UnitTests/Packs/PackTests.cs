using System.Text.Json.Nodes;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Packs;
using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.UnitTests.Packs;

public sealed class PackTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static PromptVersionInfo Prompt(string name, int version, string text) =>
        new(name, version, text, PromptNames.Hash(text), null, "alice", At, "for tests");

    private static CatalogEntry Chain(string name, string version) =>
        new(CatalogKind.Chain, name, version, "team-a", "a chain", ["tone"], Certified: true, SafeUpgrade: false, [],
            "", [new ChainStep("polish", "Polish: {{input}}")], At, "approver");

    private static AppManifest Manifest(AppLineage? lineage = null) => new(
        "Summaries", "alice", "team-a", Audience.Internal, ["email"], ["local", "standard"], "local",
        new AppQuotas(10, 1000), "", "v1",
        Prompts: [new PromptPin("summary-tone", 2)],
        Tests: [new RegressionTestCase("short", "Summarise: a b c", [new RegressionAssertion("max_tokens", "50")])],
        Savings: new MicroApps.Orleans.Savings.SavingsSettings(QualitySlo: 0.85),
        Components: [new CatalogRef("polish-chain", "1.2.0")],
        Lineage: lineage);

    private static AppPack Pack(AppLineage? lineage = null, string appId = "orig-app", int version = 1) =>
        PackBuilder.Build(appId, version, Manifest(lineage), [Prompt("summary-tone", 2, "Be brief."), Prompt("other", 1, "unused")],
            [Chain("polish-chain", "1.2.0")], "admin", At);

    [Fact]
    public void A_pack_carries_the_manifest_without_lineage_its_pinned_prompts_and_its_components()
    {
        var lineage = new AppLineage("root-app", 3, [new LineageStep(BuiltIns.Imported, "root-app", 3, "sha256:x", "bob", At)]);
        var json = Pack(lineage).ToJson();

        Assert.Equal(PackFormat.V1, (string?)json["format"]);
        Assert.Equal("orig-app", (string?)json["source"]!["appId"]);
        Assert.StartsWith("sha256:", (string?)json["source"]!["digest"]);
        Assert.Equal("root-app", (string?)json["canonical"]!["appId"]);
        Assert.Equal(3, (int?)json["canonical"]!["version"]);
        Assert.False(json["manifest"]!.AsObject().ContainsKey("lineage"));
        Assert.Equal("internal", (string?)json["manifest"]!["audience"]);
        Assert.Equal("polish-chain@1.2.0", (string?)json["manifest"]!["components"]![0]);
        Assert.Equal(["summary-tone"], json["prompts"]!.AsArray().Select(p => (string?)p!["name"]));
        Assert.Equal("Be brief.", (string?)json["prompts"]![0]!["text"]);
        Assert.Equal("chain", (string?)json["components"]![0]!["kind"]);
        Assert.Equal("short", (string?)json["manifest"]!["tests"]![0]!["name"]);
        Assert.Equal("import", (string?)json["lineage"]!["steps"]![0]!["kind"]);
    }

    [Fact]
    public void The_canonical_source_of_an_app_without_lineage_is_the_exported_version_itself()
    {
        var pack = Pack(appId: "orig-app", version: 4);
        Assert.Equal(new PackCanonical("orig-app", 4), pack.Canonical);
    }

    [Fact]
    public void The_digest_does_not_depend_on_property_order_whitespace_nulls_or_number_spelling()
    {
        var a = JsonNode.Parse("""{"b":1,"a":{"y":[1,2,{"q":null,"p":"x"}],"x":0.5},"c":null}""");
        var b = JsonNode.Parse("""
            { "a" : { "x" : 5e-1, "y" : [ 1.0, 2, { "p" : "x" } ] },
              "b" : 1 }
            """);
        Assert.Equal(CanonicalJson.Sha256(a), CanonicalJson.Sha256(b));
        Assert.Equal("""{"a":{"x":0.5,"y":[1,2,{"p":"x"}]},"b":1}""", CanonicalJson.ToText(a));
    }

    [Fact]
    public void The_digest_changes_with_array_order_and_with_any_value()
    {
        Assert.NotEqual(CanonicalJson.Sha256(JsonNode.Parse("[1,2]")), CanonicalJson.Sha256(JsonNode.Parse("[2,1]")));
        Assert.NotEqual(CanonicalJson.Sha256(JsonNode.Parse("""{"a":"x"}""")), CanonicalJson.Sha256(JsonNode.Parse("""{"a":"y"}""")));
    }

    [Fact]
    public void A_pack_reordered_by_a_tool_still_reads_with_the_same_digest()
    {
        var json = Pack().ToJson();

        // Every object's properties reversed, at every depth.
        var reordered = Reverse(json)!.AsObject();
        Assert.NotEqual(json.ToJsonString(), reordered.ToJsonString());

        var read = PackReader.Read(reordered);
        Assert.True(read.IsValid, string.Join("; ", read.Errors));
        Assert.Equal(Pack().Source.Digest, read.Pack!.Source.Digest);
    }

    [Fact]
    public void Exporting_the_same_version_twice_gives_the_same_digest()
    {
        var first = PackBuilder.Build("orig-app", 1, Manifest(), [Prompt("summary-tone", 2, "Be brief.")], [Chain("polish-chain", "1.2.0")], "admin", At);
        var later = PackBuilder.Build("orig-app", 1, Manifest(), [Prompt("summary-tone", 2, "Be brief.")], [Chain("polish-chain", "1.2.0")], "bob", At.AddDays(3));
        Assert.Equal(first.Source.Digest, later.Source.Digest);
    }

    [Theory]
    [InlineData("manifest", "defaultTier", "standard")]
    [InlineData("prompts", "text", "Be long.")]
    [InlineData("components", "owner", "mallory")]
    public void A_pack_changed_after_export_is_refused_naming_the_digest(string part, string property, string value)
    {
        var json = Pack().ToJson();
        var target = json[part] is JsonArray array ? array[0]!.AsObject() : json[part]!.AsObject();
        target[property] = value;
        if (part == "prompts")
        {
            target["contentHash"] = PromptNames.Hash(value);
        }

        var read = PackReader.Read(json);

        Assert.False(read.IsValid);
        Assert.Contains(read.Errors, e => e.Field == "pack.source.digest" && e.Message.Contains("changed after it was exported"));
    }

    [Fact]
    public void A_pack_that_is_re_signed_but_whose_prompt_hash_is_wrong_is_refused_naming_the_hash()
    {
        var json = Pack().ToJson();
        json["prompts"]![0]!["text"] = "Be long.";
        Resign(json);

        var read = PackReader.Read(json);

        Assert.Contains(read.Errors, e => e.Field == "pack.prompts[0].contentHash");
    }

    [Fact]
    public void A_pack_must_carry_exactly_the_prompts_and_components_the_manifest_uses()
    {
        var json = Pack().ToJson();
        json["prompts"]!.AsArray().RemoveAt(0);
        json["manifest"]!["components"] = new JsonArray("polish-chain@1.2.0", "other-chain@1.0.0");
        Resign(json);

        var read = PackReader.Read(json);

        Assert.Contains(read.Errors, e => e.Field == "pack.prompts" && e.Message.Contains("summary-tone@2"));
        Assert.Contains(read.Errors, e => e.Field == "pack.components" && e.Message.Contains("other-chain@1.0.0"));
    }

    [Fact]
    public void A_canonical_source_that_disagrees_with_the_lineage_is_refused()
    {
        var json = Pack(new AppLineage("root-app", 3, [])).ToJson();
        json["canonical"] = new JsonObject { ["appId"] = "someone-else", ["version"] = 1 };

        var read = PackReader.Read(json);

        Assert.Contains(read.Errors, e => e.Field == "pack.canonical" && e.Message.Contains("root-app@3"));
    }

    [Fact]
    public void A_wrong_format_or_a_missing_pack_is_refused_naming_the_field()
    {
        var json = Pack().ToJson();
        json["format"] = "microapps.pack/v0";
        Assert.Contains(PackReader.Read(json).Errors, e => e.Field == "pack.format");
        Assert.Contains(PackReader.Read(null).Errors, e => e.Field == "pack");
    }

    [Fact]
    public void Import_then_fork_keeps_the_root_as_canonical_and_appends_the_steps_in_order()
    {
        var original = Pack(appId: "orig-app", version: 2);
        var imported = PackLineage.Derived(original, BuiltIns.Imported, "alice", At);

        var importedPack = PackBuilder.Build("copy-app", 1, Manifest(imported), [Prompt("summary-tone", 2, "Be brief.")], [Chain("polish-chain", "1.2.0")], "alice", At);
        var forked = PackLineage.Derived(importedPack, BuiltIns.Forked, "bob", At.AddHours(1));

        Assert.Equal(("orig-app", 2), (forked.CanonicalAppId, forked.CanonicalVersion));
        Assert.Equal(["import", "fork"], forked.Steps.Select(s => s.Kind));
        Assert.Equal(("orig-app", 2, original.Source.Digest, "alice"), (forked.Steps[0].FromAppId, forked.Steps[0].FromVersion, forked.Steps[0].PackDigest, forked.Steps[0].Actor));
        Assert.Equal(("copy-app", 1, "bob"), (forked.Steps[1].FromAppId, forked.Steps[1].FromVersion, forked.Steps[1].Actor));
    }

    [Fact]
    public void An_upgrade_takes_a_newer_version_of_the_same_canonical_source_and_appends_a_step()
    {
        var imported = PackLineage.Derived(Pack(appId: "orig-app", version: 1), BuiltIns.Imported, "alice", At);

        var decision = PackLineage.Upgraded(imported, Pack(appId: "orig-app", version: 3), "alice", At);

        Assert.Equal(PackUpgradeRefusal.None, decision.Refusal);
        Assert.Equal(("orig-app", 1), (decision.Lineage!.CanonicalAppId, decision.Lineage.CanonicalVersion));
        Assert.Equal(["import", "upgrade"], decision.Lineage.Steps.Select(s => s.Kind));
        Assert.Equal(3, decision.Lineage.Steps[1].FromVersion);

        var again = PackLineage.Upgraded(decision.Lineage, Pack(appId: "orig-app", version: 3), "alice", At);
        Assert.Equal(PackUpgradeRefusal.NotNewer, again.Refusal);
    }

    [Fact]
    public void An_upgrade_from_another_canonical_source_is_refused_naming_both()
    {
        var imported = PackLineage.Derived(Pack(appId: "orig-app", version: 1), BuiltIns.Imported, "alice", At);

        var decision = PackLineage.Upgraded(imported, Pack(appId: "stranger-app", version: 5), "alice", At);

        Assert.Equal(PackUpgradeRefusal.OtherCanonicalSource, decision.Refusal);
        Assert.Null(decision.Lineage);
        Assert.Contains("stranger-app@5", decision.Message);
        Assert.Contains("orig-app@1", decision.Message);
    }

    [Fact]
    public void An_upgrade_is_refused_for_an_app_without_lineage_and_for_a_source_the_app_never_came_from()
    {
        Assert.Equal(PackUpgradeRefusal.NoCanonicalSource, PackLineage.Upgraded(null, Pack(), "alice", At).Refusal);

        // The pack comes from a sibling fork of the same root: same canonical source, but no version of it to compare.
        var imported = PackLineage.Derived(Pack(appId: "orig-app", version: 1), BuiltIns.Imported, "alice", At);
        var sibling = Pack(new AppLineage("orig-app", 1, []), appId: "sibling-app", version: 7);
        Assert.Equal(PackUpgradeRefusal.UnrelatedSource, PackLineage.Upgraded(imported, sibling, "alice", At).Refusal);
    }

    private static void Resign(JsonObject json) =>
        json["source"]!["digest"] = PackDigest.Of(json["manifest"], json["prompts"], json["components"]);

    private static JsonNode? Reverse(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Reverse().Select(p => KeyValuePair.Create(p.Key, Reverse(p.Value)))),
        JsonArray array => new JsonArray([.. array.Select(Reverse)]),
        _ => node?.DeepClone(),
    };
}
