using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using static MicroApps.Orleans.UnitTests.Catalog.CatalogTestData;

namespace MicroApps.Orleans.UnitTests.Catalog;

public sealed class CatalogUsageTests
{
    private static readonly Dictionary<string, CatalogKind> Kinds = new()
    {
        ["summarizer"] = CatalogKind.Template,
        ["voice"] = CatalogKind.Prompt,
        ["review"] = CatalogKind.Chain,
        ["http-json"] = CatalogKind.Connector,
    };

    [Fact]
    public void Uses_are_the_template_known_components_and_connector_uses()
    {
        var manifest = Manifest(
            template: Ref("summarizer@1.0.0"),
            components: [Ref("voice@1.0.0"), Ref("review@2.0.0"), Ref("unknown@1.0.0")],
            connectors: [new ConnectorRef("crm", "h", [], Ref("http-json@1.0.0")), new ConnectorRef("raw", "h", [])]);

        var uses = CatalogUsage.UsesOf(manifest, Kinds);

        Assert.Equal(
            [
                new CatalogUse(CatalogKind.Template, Ref("summarizer@1.0.0")),
                new CatalogUse(CatalogKind.Prompt, Ref("voice@1.0.0")),
                new CatalogUse(CatalogKind.Chain, Ref("review@2.0.0")),
                new CatalogUse(CatalogKind.Connector, Ref("http-json@1.0.0")),
            ],
            uses);
    }

    [Fact]
    public void The_published_manifest_counts_before_a_newer_draft_and_the_newest_when_nothing_is_published()
    {
        var published = App("a", Manifest(template: Ref("summarizer@1.0.0")), draft: Manifest());
        var unpublished = App("b", Manifest(), draft: Manifest(template: Ref("summarizer@1.0.0")), published: false);

        Assert.Equal(Ref("summarizer@1.0.0"), CatalogUsage.ManifestOf(published).Template);
        Assert.Equal(Ref("summarizer@1.0.0"), CatalogUsage.ManifestOf(unpublished).Template);
    }

    [Fact]
    public void Usage_counts_apps_and_their_calls_per_version_and_per_name_without_retired_apps()
    {
        var apps = new[]
        {
            App("a", Manifest(template: Ref("summarizer@1.0.0"), components: [Ref("voice@1.0.0")])),
            App("b", Manifest(template: Ref("summarizer@1.0.0"))),
            App("c", Manifest(components: [Ref("voice@1.1.0")], connectors:
                [new ConnectorRef("x", "h", [], Ref("http-json@1.0.0")), new ConnectorRef("y", "h", [], Ref("http-json@1.0.0"))])),
            App("d", Manifest()),
            App("gone", Manifest(template: Ref("summarizer@1.0.0")), AppLifecycle.Retired),
        };
        var spend = new Dictionary<string, AppSpend>
        {
            ["a"] = new(10, 1m), ["b"] = new(5, 1m), ["c"] = new(20, 1m), ["d"] = new(65, 1m), ["gone"] = new(1000, 9m),
        };

        var report = CatalogUsage.Compute(At, At.AddDays(30), apps, spend, Kinds);

        Assert.Equal(new CatalogEntryUsage(CatalogKind.Template, "summarizer", "1.0.0", 2, 15), Assert.Single(report.ByVersion, u => u.Name == "summarizer"));
        Assert.Equal(new CatalogEntryUsage(CatalogKind.Prompt, "voice", "1.0.0", 1, 10), report.ByVersion.Single(u => u.Name == "voice" && u.Version == "1.0.0"));
        Assert.Equal(new CatalogEntryUsage(CatalogKind.Prompt, "voice", null, 2, 30), Assert.Single(report.ByName, u => u.Name == "voice"));

        // Two connectors on one version: the app counts once.
        Assert.Equal(new CatalogEntryUsage(CatalogKind.Connector, "http-json", "1.0.0", 1, 20), Assert.Single(report.ByVersion, u => u.Name == "http-json"));

        // 3 of 4 live apps are built on the catalog; they made 35 of 100 calls. The retired app counts nowhere.
        Assert.Equal(new ReuseFigures(4, 3, 0.75, 100, 35, 0.35), report.Reuse);
    }

    [Fact]
    public void Reuse_is_null_without_apps_and_the_calls_share_null_without_calls()
    {
        Assert.Equal(new ReuseFigures(0, 0, null, 0, 0, null), CatalogUsage.Reuse([], new Dictionary<string, AppSpend>()));

        var idle = CatalogUsage.Reuse([App("a", Manifest(template: Ref("summarizer@1.0.0"))), App("b", Manifest())], new Dictionary<string, AppSpend>());
        Assert.Equal(0.5, idle.AppsShare);
        Assert.Null(idle.CallsShare);
    }

    [Fact]
    public void Retirement_lists_little_used_costly_apps_highest_cost_first_with_their_figures()
    {
        var apps = new[]
        {
            App("idle-costly", Manifest()),
            App("busy-costly", Manifest()),
            App("idle-cheap", Manifest()),
            App("edge", Manifest()),
            App("retired", Manifest(), AppLifecycle.Retired),
            App("silent", Manifest()),
        };
        var spend = new Dictionary<string, AppSpend>
        {
            ["idle-costly"] = new(3, 4.5m),
            ["busy-costly"] = new(31, 50m),
            ["idle-cheap"] = new(2, 0.99m),
            ["edge"] = new(30, 1m),
            ["retired"] = new(0, 100m),
        };

        var report = CatalogUsage.Retirement(At, At.AddDays(30), new RetirementCriteria(30, 1, 1m), apps, spend);

        // 30 calls in 30 days is exactly 1/day and $1 exactly the minimum: both bounds are inclusive.
        Assert.Equal(["idle-costly", "edge"], report.Candidates.Select(c => c.AppId));
        Assert.Equal(5, report.AppsConsidered);
        var first = report.Candidates[0];
        Assert.Equal(3, first.Calls);
        Assert.Equal(0.1, first.CallsPerDay);
        Assert.Equal(4.5m, first.CostUsd);
        Assert.Equal(1.5m, first.CostPerCallUsd);
        Assert.Equal("app:idle-costly", first.BudgetId);
        Assert.Contains("3 call(s) in 30 day(s)", first.Reason);
    }

    [Fact]
    public void An_app_without_calls_is_a_candidate_only_when_the_minimum_cost_is_zero()
    {
        var apps = new[] { App("silent", Manifest()) };

        Assert.Empty(CatalogUsage.Retirement(At, At.AddDays(7), new RetirementCriteria(7, 1, 1m), apps, new Dictionary<string, AppSpend>()).Candidates);
        var listed = Assert.Single(CatalogUsage.Retirement(At, At.AddDays(7), new RetirementCriteria(7, 1, 0m), apps, new Dictionary<string, AppSpend>()).Candidates);
        Assert.Null(listed.CostPerCallUsd);
    }
}
