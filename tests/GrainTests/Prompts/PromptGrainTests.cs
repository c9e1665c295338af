using MicroApps.Orleans.Prompts;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Storage;
using Orleans.TestingHost;

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

    private static PromptPublication AsAuthor(string text, string author, string? forkedFrom = null) => new(text, author, "", forkedFrom, MayPublishToAnyPrompt: false);

    private static PromptPublication AsAdmin(string text, string author = "admin") => new(text, author, "", null, MayPublishToAnyPrompt: true);

    /// <summary>The silos' "store" storage, to read what a grain wrote and to seed state written by an older build.</summary>
    private IGrainStorage Store =>
        ((fixture.Cluster.Primary as InProcessSiloHandle)?.SiloHost?.Services ?? throw new InvalidOperationException("the primary silo runs in this process"))
            .GetRequiredKeyedService<IGrainStorage>("store");

    private async Task<PromptState> StoredAsync(string name)
    {
        var stored = new GrainState<PromptState>(new PromptState());
        await Store.ReadStateAsync("prompt", Prompt(name).GetGrainId(), stored);
        Assert.True(stored.RecordExists, $"prompt '{name}' has stored state");
        return stored.State ?? throw new InvalidOperationException("a stored record has a state");
    }

    private PromptVersionInfo LegacyVersion(string name, int version, string text, string author) =>
        new(name, version, text, PromptNames.Hash(text), null, author, ClusterFixture.Time.GetUtcNow(), "");

    [Fact]
    public async Task The_first_publisher_owns_the_prompt_and_another_author_is_refused_naming_the_owner()
    {
        var name = NewName("own");
        var v1 = (await Prompt(name).PublishAsync(AsAuthor("Be brief.", "author-alice"))).Version;

        var bob = await Prompt(name).PublishAsync(AsAuthor("Be very brief.", "author-bob"));
        var bobSameText = await Prompt(name).PublishAsync(AsAuthor("Be brief.", "author-bob"));
        var alice = await Prompt(name).PublishAsync(AsAuthor("Be brief and kind.", "author-alice"));

        Assert.Equal(PromptPublishOutcome.NotOwner, bob.Outcome);
        Assert.Equal("author-alice", bob.Owner);
        Assert.Equal(v1, bob.Version);
        Assert.Equal(PromptPublishOutcome.NotOwner, bobSameText.Outcome);
        Assert.Equal(PromptPublishOutcome.Published, alice.Outcome);
        Assert.Equal(2, alice.Version.Version);
        var info = await Prompt(name).GetInfoAsync();
        Assert.NotNull(info);
        Assert.Equal("author-alice", info.Owner);
        Assert.Equal(["author-alice", "author-alice"], info.Versions.Select(v => v.Author));
    }

    [Fact]
    public async Task A_caller_allowed_to_publish_anywhere_adds_a_version_without_taking_ownership()
    {
        var name = NewName("adm");
        await Prompt(name).PublishAsync(AsAuthor("One.", "author-alice"));

        var byAdmin = await Prompt(name).PublishAsync(AsAdmin("Two."));
        var unchanged = await Prompt(name).PublishAsync(AsAuthor("Two.", "author-alice"));

        Assert.Equal(PromptPublishOutcome.Published, byAdmin.Outcome);
        Assert.Equal("admin", byAdmin.Version.Author);
        Assert.Equal("author-alice", byAdmin.Owner);
        Assert.Equal(PromptPublishOutcome.Unchanged, unchanged.Outcome);
        Assert.Equal(byAdmin.Version, unchanged.Version);
        Assert.Equal("author-alice", (await Prompt(name).GetInfoAsync())?.Owner);
    }

    [Fact]
    public async Task The_owner_is_stored_and_kept_across_versions_and_deactivation()
    {
        var name = NewName("keep");
        await Prompt(name).PublishAsync(AsAuthor("One.", "author-alice"));
        await Prompt(name).PublishAsync(AsAdmin("Two."));
        await Prompt(name).PublishAsync(AsAuthor("Three.", "author-alice"));

        await Prompt(name).AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        var stored = await StoredAsync(name);
        var bob = await Prompt(name).PublishAsync(AsAuthor("Four.", "author-bob"));

        Assert.Equal("author-alice", stored.Owner);
        Assert.Equal(3, stored.Versions.Count);
        Assert.Equal(PromptPublishOutcome.NotOwner, bob.Outcome);
        Assert.Equal("author-alice", bob.Owner);
        Assert.Equal(3, (await Prompt(name).GetInfoAsync())?.Versions.Count);
    }

    [Fact]
    public async Task A_prompt_stored_before_owners_were_recorded_is_owned_by_its_first_versions_author()
    {
        var name = NewName("old");
        var legacy = new PromptState { Versions = [LegacyVersion(name, 1, "One.", "author-alice"), LegacyVersion(name, 2, "Two.", "author-bob")] };
        await Store.WriteStateAsync("prompt", Prompt(name).GetGrainId(), new GrainState<PromptState>(legacy));

        var info = await Prompt(name).GetInfoAsync();
        var bob = await Prompt(name).PublishAsync(AsAuthor("Three.", "author-bob"));
        var alice = await Prompt(name).PublishAsync(AsAuthor("Three.", "author-alice"));

        Assert.Equal("author-alice", info?.Owner);
        Assert.Equal(PromptPublishOutcome.NotOwner, bob.Outcome);
        Assert.Equal(PromptPublishOutcome.Published, alice.Outcome);
        Assert.Equal("author-alice", (await StoredAsync(name)).Owner);
    }

    [Fact]
    public async Task Any_author_may_fork_into_a_new_name_which_they_then_own()
    {
        var source = NewName("src");
        var target = NewName("fork");
        await Prompt(source).PublishAsync(AsAuthor("Answer as a pirate.", "author-alice"));

        var fork = await Prompt(target).PublishAsync(AsAuthor("Answer as a pirate.", "author-bob", $"{source}@1"));
        var bobAgain = await Prompt(target).PublishAsync(AsAuthor("Answer as a polite pirate.", "author-bob"));
        var aliceIntoBobs = await Prompt(target).PublishAsync(AsAuthor("Answer as a parrot.", "author-alice", $"{source}@1"));

        Assert.Equal(PromptPublishOutcome.Published, fork.Outcome);
        Assert.Equal("author-bob", fork.Owner);
        Assert.Equal($"{source}@1", fork.Version.ForkedFrom);
        Assert.Equal(PromptPublishOutcome.Published, bobAgain.Outcome);
        Assert.Equal(PromptPublishOutcome.NotOwner, aliceIntoBobs.Outcome);
        Assert.Equal("author-bob", aliceIntoBobs.Owner);
        Assert.Equal("author-alice", (await Prompt(source).GetInfoAsync())?.Owner);
    }

    [Fact]
    public async Task Of_two_concurrent_first_publications_one_owns_the_prompt_and_the_other_is_refused()
    {
        var name = NewName("race");

        var results = await Task.WhenAll(
            Prompt(name).PublishAsync(AsAuthor("Alice's text.", "author-alice")),
            Prompt(name).PublishAsync(AsAuthor("Bob's text.", "author-bob")));

        var winner = Assert.Single(results, r => r.Outcome == PromptPublishOutcome.Published);
        var loser = Assert.Single(results, r => r.Outcome == PromptPublishOutcome.NotOwner);
        Assert.Equal(winner.Version.Author, winner.Owner);
        Assert.Equal(winner.Owner, loser.Owner);
        Assert.Equal([winner.Version], await Prompt(name).ListVersionsAsync());
    }

    [Fact]
    public async Task The_registry_lists_owners_and_fills_them_in_for_summaries_stored_before_owners_were_recorded()
    {
        var fresh = NewName("reg");
        await Prompt(fresh).PublishAsync(AsAuthor("One.", "author-alice"));
        await Prompt(fresh).PublishAsync(AsAdmin("Two."));
        var listed = Assert.Single(await fixture.Grains.GetGrain<IPromptRegistryGrain>(0).ListAsync(), p => p.Name == fresh);

        var old = NewName("regold");
        var first = LegacyVersion(old, 1, "One.", "author-alice");
        var second = LegacyVersion(old, 2, "Two.", "author-bob");
        await Store.WriteStateAsync("prompt", Prompt(old).GetGrainId(), new GrainState<PromptState>(new PromptState { Versions = [first, second] }));

        // A registry activation of its own (key other than 0) whose stored summary predates owners.
        var registry = fixture.Grains.GetGrain<IPromptRegistryGrain>(Random.Shared.NextInt64(1, long.MaxValue));
        var legacySummary = new PromptSummary(old, 2, second.ContentHash, "author-bob", second.CreatedAt, "", null);
        var registryState = new PromptRegistryState { Prompts = { [old] = legacySummary } };
        await Store.WriteStateAsync("prompt-registry", registry.GetGrainId(), new GrainState<PromptRegistryState>(registryState));
        var filled = Assert.Single(await registry.ListAsync());

        Assert.Equal("admin", listed.Author);
        Assert.Equal("author-alice", listed.Owner);
        Assert.Null(legacySummary.Owner);
        Assert.Equal("author-bob", filled.Author);
        Assert.Equal("author-alice", filled.Owner);
    }
}
