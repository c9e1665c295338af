using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using static MicroApps.Orleans.UnitTests.Catalog.CatalogTestData;

namespace MicroApps.Orleans.UnitTests.Catalog;

public sealed class CatalogUpgradesTests
{
    private static readonly IReadOnlyList<UpgradeProposal> Proposals =
    [
        new(CatalogKind.Prompt, Ref("voice@1.0.0"), Ref("voice@1.0.1"), true, "safe"),
        new(CatalogKind.Prompt, Ref("voice@1.0.0"), Ref("voice@1.1.0"), false, "minor"),
        new(CatalogKind.Connector, Ref("http-json@1.0.0"), Ref("http-json@2.0.0"), false, "major"),
    ];

    [Fact]
    public void Without_references_every_reference_moves_to_the_newest_version_offered()
    {
        var (chosen, errors) = CatalogUpgrades.Choose(Proposals, null);

        Assert.Empty(errors);
        Assert.Equal(2, chosen.Count);
        Assert.Contains(new AppliedUpgrade(CatalogKind.Prompt, Ref("voice@1.0.0"), Ref("voice@1.1.0")), chosen);
        Assert.Contains(new AppliedUpgrade(CatalogKind.Connector, Ref("http-json@1.0.0"), Ref("http-json@2.0.0")), chosen);
    }

    [Fact]
    public void Chosen_references_move_only_those()
    {
        var (chosen, errors) = CatalogUpgrades.Choose(Proposals, ["voice@1.0.1"]);

        Assert.Empty(errors);
        Assert.Equal(new AppliedUpgrade(CatalogKind.Prompt, Ref("voice@1.0.0"), Ref("voice@1.0.1")), Assert.Single(chosen));
    }

    [Fact]
    public void References_not_offered_malformed_or_twice_for_one_reference_are_named()
    {
        var (_, errors) = CatalogUpgrades.Choose(Proposals, ["voice@1.0.1", "voice@1.1.0", "voice@3.0.0", "nonsense", "other@1.0.0"]);

        Assert.Contains(errors, e => e.Field == "references[1]" && e.Message.Contains("already has an upgrade chosen"));
        Assert.Contains(errors, e => e.Field == "references[2]" && e.Message.Contains("offered: voice@1.0.1, voice@1.1.0"));
        Assert.Contains(errors, e => e.Field == "references[3]" && e.Message.Contains("not a catalog reference"));
        Assert.Contains(errors, e => e.Field == "references[4]" && e.Message.Contains("No upgrade of 'other'"));
        Assert.DoesNotContain(errors, e => e.Field == "references[0]");
    }

    [Fact]
    public void Apply_moves_the_template_components_and_connector_uses_and_nothing_else()
    {
        var manifest = Manifest(
            template: Ref("summarizer@1.0.0"),
            components: [Ref("voice@1.0.0"), Ref("tone@1.0.0")],
            connectors: [new ConnectorRef("crm", "api.example.com", [], Ref("http-json@1.0.0")), new ConnectorRef("legacy", "old.example.com", [])]);

        var moved = CatalogUpgrades.Apply(manifest,
        [
            new AppliedUpgrade(CatalogKind.Template, Ref("summarizer@1.0.0"), Ref("summarizer@1.1.0")),
            new AppliedUpgrade(CatalogKind.Prompt, Ref("voice@1.0.0"), Ref("voice@1.1.0")),
            new AppliedUpgrade(CatalogKind.Connector, Ref("http-json@1.0.0"), Ref("http-json@2.0.0")),
        ]);

        Assert.Equal(Ref("summarizer@1.1.0"), moved.Template);
        Assert.Equal([Ref("voice@1.1.0"), Ref("tone@1.0.0")], moved.Components!);
        Assert.Equal(Ref("http-json@2.0.0"), moved.Connectors![0].Use);
        Assert.Null(moved.Connectors[1].Use);
        Assert.Equal(manifest.Name, moved.Name);
        Assert.Equal(manifest.Quotas, moved.Quotas);
    }
}
