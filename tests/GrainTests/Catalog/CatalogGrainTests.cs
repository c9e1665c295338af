using MicroApps.Orleans.Catalog;

namespace MicroApps.Orleans.GrainTests.Catalog;

/// <summary>The catalog grain through the cluster: publishing components, safe-patch resolution and upgrades, search.</summary>
[Collection(ClusterCollection.Name)]
public sealed class CatalogGrainTests(ClusterFixture fixture)
{
    private ICatalogGrain Catalog => fixture.Grains.GetGrain<ICatalogGrain>("default");

    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    private static CatalogRef Ref(string name, string version) => new(name, version);

    private static CatalogEntry Prompt(string name, string version, string text = "Write for {{audience}} in {{ tone }}.", bool safe = false, string[]? tags = null) =>
        new(CatalogKind.Prompt, name, version, "brand-team", "Our brand voice.", tags ?? ["voice", "brand"], false, safe, [], text, [],
            ClusterFixture.Time.GetUtcNow(), "approver-carol");

    [Fact]
    public async Task Publishing_a_prompt_derives_its_parameters_from_its_placeholders()
    {
        var name = NewName("voice");

        var published = await Catalog.PublishAsync(Prompt(name, "1.0.0"));

        Assert.Equal(["audience", "tone"], published.Parameters.Select(p => p.Name));
        var stored = await Catalog.GetAsync(CatalogKind.Prompt, Ref(name, "1.0.0"));
        Assert.Equal(["audience", "tone"], stored!.Parameters.Select(p => p.Name));
    }

    [Fact]
    public async Task A_malformed_placeholder_or_a_safe_non_patch_is_refused_naming_the_field()
    {
        var name = NewName("voice");

        var text = await Assert.ThrowsAsync<ArgumentException>(() => Catalog.PublishAsync(Prompt(name, "1.0.0", text: "Hi {{ 1st }}")));
        var safe = await Assert.ThrowsAsync<ArgumentException>(() => Catalog.PublishAsync(Prompt(name, "1.0.0", safe: true)));

        // The field leads the message (a parameter name does not survive the trip back from the grain).
        Assert.StartsWith("text: ", text.Message);
        Assert.StartsWith("safeUpgrade: ", safe.Message);
        Assert.Null(await Catalog.GetAsync(CatalogKind.Prompt, Ref(name, "1.0.0")));
    }

    [Fact]
    public async Task The_same_body_again_is_a_no_op_and_a_different_body_at_that_version_is_refused()
    {
        var name = NewName("voice");
        var first = await Catalog.PublishAsync(Prompt(name, "1.0.0"));

        var again = await Catalog.PublishAsync(Prompt(name, "1.0.0") with { PublishedBy = "someone-else" });
        var different = await Assert.ThrowsAsync<InvalidOperationException>(() => Catalog.PublishAsync(Prompt(name, "1.0.0", text: "Other text.")));

        Assert.Equal((first.PublishedBy, first.PublishedAt), (again.PublishedBy, again.PublishedAt));
        Assert.Contains("different body", different.Message);
        Assert.Equal("Write for {{audience}} in {{ tone }}.", (await Catalog.GetAsync(CatalogKind.Prompt, Ref(name, "1.0.0")))!.Text);
    }

    [Fact]
    public async Task A_safe_patch_is_what_a_pin_runs_and_a_minor_version_is_proposed()
    {
        var name = NewName("voice");
        await Catalog.PublishAsync(Prompt(name, "1.0.0"));
        await Catalog.PublishAsync(Prompt(name, "1.0.1", text: "Write for {{audience}}.", safe: true));
        await Catalog.PublishAsync(Prompt(name, "1.1.0", text: "Write warmly for {{audience}}."));

        var resolved = await Catalog.ResolveAsync(CatalogKind.Prompt, Ref(name, "1.0.0"));
        var upgrades = await Catalog.UpgradesAsync([new CatalogUse(CatalogKind.Prompt, Ref(name, "1.0.0"))]);

        Assert.Equal("1.0.1", resolved!.Version);
        Assert.Equal(Ref(name, "1.0.1"), Assert.Single(upgrades, u => u.Automatic).Available);
        Assert.Equal(Ref(name, "1.1.0"), Assert.Single(upgrades, u => !u.Automatic).Available);
    }

    [Fact]
    public async Task Search_finds_by_name_and_tag_the_latest_version_unless_all_are_asked_for()
    {
        var name = NewName("search");
        var tag = NewName("tag");
        await Catalog.PublishAsync(Prompt(name, "1.0.0", tags: [tag]));
        await Catalog.PublishAsync(Prompt(name, "1.2.0", tags: [tag]));

        var byName = await Catalog.SearchAsync(new CatalogQuery(name));
        var byTag = await Catalog.SearchAsync(new CatalogQuery(Tag: tag));
        var all = await Catalog.SearchAsync(new CatalogQuery(Tag: tag, AllVersions: true));
        var templates = await Catalog.SearchAsync(new CatalogQuery("summar", CatalogKind.Template));

        Assert.Equal("1.2.0", Assert.Single(byName).Version);
        Assert.Equal("1.2.0", Assert.Single(byTag).Version);
        Assert.Equal(["1.0.0", "1.2.0"], all.Select(e => e.Version));
        Assert.Equal(BuiltIns.Summarizer, Assert.Single(templates).Name);
    }
}
