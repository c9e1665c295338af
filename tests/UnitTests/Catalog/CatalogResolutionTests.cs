using MicroApps.Orleans.Catalog;
using static MicroApps.Orleans.UnitTests.Catalog.CatalogTestData;

namespace MicroApps.Orleans.UnitTests.Catalog;

public sealed class CatalogResolutionTests
{
    private static IReadOnlyList<CatalogEntry> Entries(params CatalogEntry[] entries) => entries;

    [Fact]
    public void A_pin_moves_along_consecutive_safe_patches_of_its_major_minor()
    {
        var entries = Entries(Prompt("voice", "1.0.0"), Prompt("voice", "1.0.1", safe: true), Prompt("voice", "1.0.2", safe: true));

        Assert.Equal("1.0.2", CatalogResolution.Resolve(entries, CatalogKind.Prompt, Ref("voice@1.0.0"))!.Version);
        Assert.Equal("1.0.2", CatalogResolution.Resolve(entries, CatalogKind.Prompt, Ref("voice@1.0.1"))!.Version);
    }

    [Fact]
    public void Resolution_stops_before_the_first_patch_not_marked_safe_even_when_a_later_one_is()
    {
        var entries = Entries(Prompt("voice", "1.0.0"), Prompt("voice", "1.0.1", safe: true), Prompt("voice", "1.0.2"), Prompt("voice", "1.0.3", safe: true));

        Assert.Equal("1.0.1", CatalogResolution.Resolve(entries, CatalogKind.Prompt, Ref("voice@1.0.0"))!.Version);

        // Pinned past the unsafe patch, the chain continues from there.
        Assert.Equal("1.0.3", CatalogResolution.Resolve(entries, CatalogKind.Prompt, Ref("voice@1.0.2"))!.Version);
    }

    [Fact]
    public void A_safe_version_of_another_minor_or_major_is_never_applied_automatically()
    {
        var entries = Entries(Prompt("voice", "1.0.0"), Prompt("voice", "1.1.1", safe: true), Prompt("voice", "2.0.1", safe: true));

        Assert.Equal("1.0.0", CatalogResolution.Resolve(entries, CatalogKind.Prompt, Ref("voice@1.0.0"))!.Version);
    }

    [Fact]
    public void Versions_order_numerically_not_as_text()
    {
        var entries = Entries(Prompt("voice", "1.0.9"), Prompt("voice", "1.0.10", safe: true), Prompt("voice", "1.0.2", safe: true));

        // 1.0.9 → 1.0.10 (safe); as text "1.0.10" < "1.0.2" < "1.0.9" would stop at 1.0.9.
        Assert.Equal("1.0.10", CatalogResolution.Resolve(entries, CatalogKind.Prompt, Ref("voice@1.0.9"))!.Version);
    }

    [Fact]
    public void An_unknown_version_or_a_name_of_another_kind_resolves_to_nothing()
    {
        var entries = Entries(Prompt("voice", "1.0.0"));

        Assert.Null(CatalogResolution.Resolve(entries, CatalogKind.Prompt, Ref("voice@1.0.5")));
        Assert.Null(CatalogResolution.Resolve(entries, CatalogKind.Chain, Ref("voice@1.0.0")));
    }

    [Fact]
    public void Upgrades_list_the_automatic_safe_patch_and_propose_the_newest_version_beyond_it()
    {
        var entries = Entries(Prompt("voice", "1.0.0"), Prompt("voice", "1.0.1", safe: true), Prompt("voice", "1.1.0"), Prompt("voice", "1.2.0"));

        var upgrades = CatalogResolution.Upgrades(entries, [new CatalogUse(CatalogKind.Prompt, Ref("voice@1.0.0"))]);

        Assert.Equal(2, upgrades.Count);
        var automatic = Assert.Single(upgrades, u => u.Automatic);
        Assert.Equal(Ref("voice@1.0.1"), automatic.Available);
        var proposed = Assert.Single(upgrades, u => !u.Automatic);
        Assert.Equal(Ref("voice@1.2.0"), proposed.Available);
        Assert.Equal(Ref("voice@1.0.0"), proposed.Current);
        Assert.Contains("minor", proposed.Reason);
    }

    [Fact]
    public void A_new_major_and_an_unsafe_patch_are_proposed_with_their_reasons()
    {
        var entries = Entries(Prompt("voice", "1.0.0"), Prompt("voice", "2.0.0"), Prompt("tone", "1.0.0"), Prompt("tone", "1.0.1"));

        var upgrades = CatalogResolution.Upgrades(entries,
            [new CatalogUse(CatalogKind.Prompt, Ref("voice@1.0.0")), new CatalogUse(CatalogKind.Prompt, Ref("tone@1.0.0"))]);

        Assert.All(upgrades, u => Assert.False(u.Automatic));
        Assert.Contains("major", Assert.Single(upgrades, u => u.Current.Name == "voice").Reason);
        Assert.Contains("not marked safe", Assert.Single(upgrades, u => u.Current.Name == "tone").Reason);
    }

    [Fact]
    public void An_app_on_the_newest_version_or_on_an_unknown_one_is_offered_nothing()
    {
        var entries = Entries(Prompt("voice", "1.0.0"), Prompt("voice", "1.1.0"));

        Assert.Empty(CatalogResolution.Upgrades(entries, [new CatalogUse(CatalogKind.Prompt, Ref("voice@1.1.0"))]));
        Assert.Empty(CatalogResolution.Upgrades(entries, [new CatalogUse(CatalogKind.Prompt, Ref("voice@9.9.9"))]));
    }

    [Fact]
    public void The_built_in_templates_have_no_upgrades_yet()
    {
        var uses = BuiltInCatalog.All.Select(e => new CatalogUse(e.Kind, e.Ref)).ToList();

        Assert.Empty(CatalogResolution.Upgrades(BuiltInCatalog.All, uses));
    }
}
