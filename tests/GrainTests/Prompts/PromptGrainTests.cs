using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.GrainTests.Prompts;

[Collection(ClusterCollection.Name)]
public sealed class PromptGrainTests(ClusterFixture fixture)
{
    private static string NewName(string prefix = "p") => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private IPromptGrain Prompt(string name) => fixture.Grains.GetGrain<IPromptGrain>(name);

    [Fact]
    public async Task Versions_are_numbered_from_one_with_the_sha256_of_their_text()
    {
        var name = NewName();

        var v1 = await Prompt(name).PublishVersionAsync("Summarise in one sentence.", "author-alice", "first", null);
        var v2 = await Prompt(name).PublishVersionAsync("Summarise in two sentences.", "author-alice", "longer", null);

        Assert.Equal(1, v1.Version);
        Assert.Equal(2, v2.Version);
        Assert.Equal(PromptNames.Hash("Summarise in one sentence."), v1.ContentHash);
        Assert.Equal(64, v2.ContentHash.Length);
        Assert.NotEqual(v1.ContentHash, v2.ContentHash);
        Assert.Equal($"{name}@2", v2.Reference);
        Assert.Equal(ClusterFixture.Time.GetUtcNow(), v2.CreatedAt);
        Assert.Equal(v1, await Prompt(name).GetAsync(1));
        Assert.Equal(v2, await Prompt(name).GetAsync(null));
        Assert.Null(await Prompt(name).GetAsync(3));
        Assert.Equal([v1, v2], await Prompt(name).ListVersionsAsync());
    }

    [Fact]
    public async Task Publishing_the_latest_text_again_returns_the_latest_version()
    {
        var name = NewName();
        var first = await Prompt(name).PublishVersionAsync("Be brief.", "author-alice", "", null);

        var again = await Prompt(name).PublishVersionAsync("Be brief.", "author-bob", "retry", null);

        Assert.Equal(first, again);
        Assert.Single(await Prompt(name).ListVersionsAsync());
    }

    [Fact]
    public async Task Returning_to_an_older_text_is_a_new_version()
    {
        var name = NewName();
        await Prompt(name).PublishVersionAsync("A", "author-alice", "", null);
        await Prompt(name).PublishVersionAsync("B", "author-alice", "", null);

        var v3 = await Prompt(name).PublishVersionAsync("A", "author-alice", "back to A", null);

        Assert.Equal(3, v3.Version);
    }

    [Fact]
    public async Task A_fork_keeps_its_lineage()
    {
        var source = NewName("src");
        var target = NewName("fork");
        await Prompt(source).PublishVersionAsync("Answer as a pirate.", "author-alice", "", null);
        await Prompt(source).PublishVersionAsync("Answer as a polite pirate.", "author-alice", "", null);

        var forked = await Prompt(source).ForkAsync(target, "author-bob", "for the finance team", 1);

        Assert.Equal(target, forked.Name);
        Assert.Equal(1, forked.Version);
        Assert.Equal($"{source}@1", forked.ForkedFrom);
        Assert.Equal("Answer as a pirate.", forked.Text);
        Assert.Equal("author-bob", forked.Author);
        Assert.Equal(forked, await Prompt(target).GetAsync(1));
    }

    [Fact]
    public async Task Publishing_with_an_explicit_lineage_needs_an_existing_version()
    {
        var source = NewName("src");
        var target = NewName("dst");
        await Prompt(source).PublishVersionAsync("Base text.", "author-alice", "", null);

        var linked = await Prompt(target).PublishVersionAsync("Base text, edited.", "author-alice", "", $"{source}@1");
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => Prompt(target).PublishVersionAsync("Other.", "author-alice", "", $"{source}@7"));

        Assert.Equal($"{source}@1", linked.ForkedFrom);
        Assert.Contains($"forkedFrom '{source}@7' does not exist", unknown.Message);
        Assert.Single(await Prompt(target).ListVersionsAsync());
    }

    [Fact]
    public async Task A_prompt_may_name_its_own_earlier_version_as_lineage()
    {
        var name = NewName();
        await Prompt(name).PublishVersionAsync("One.", "author-alice", "", null);

        var v2 = await Prompt(name).PublishVersionAsync("Two.", "author-alice", "", $"{name}@1");

        Assert.Equal($"{name}@1", v2.ForkedFrom);
    }

    [Theory]
    [InlineData("Bad Name")]
    [InlineData("ab")]
    public async Task Invalid_names_and_empty_texts_are_refused(string badName)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Prompt(badName).PublishVersionAsync("text", "author-alice", "", null));
        await Assert.ThrowsAsync<ArgumentException>(() => Prompt(NewName()).PublishVersionAsync("  ", "author-alice", "", null));
        await Assert.ThrowsAsync<ArgumentException>(() => Prompt(NewName()).ForkAsync(badName, "author-alice", "", null));
    }

    [Fact]
    public async Task The_registry_lists_each_prompt_at_its_latest_version()
    {
        var name = NewName("reg");
        await Prompt(name).PublishVersionAsync("One.", "author-alice", "first", null);
        await Prompt(name).PublishVersionAsync("Two.", "author-bob", "second", null);

        var listed = Assert.Single(await fixture.Grains.GetGrain<IPromptRegistryGrain>(0).ListAsync(), p => p.Name == name);

        Assert.Equal(2, listed.LatestVersion);
        Assert.Equal(PromptNames.Hash("Two."), listed.ContentHash);
        Assert.Equal("author-bob", listed.Author);
    }
}
