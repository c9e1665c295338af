using MicroApps.Orleans.Caching;
using MicroApps.Orleans.GrainTests.Gateway;

namespace MicroApps.Orleans.GrainTests.Caching;

[Collection(ClusterCollection.Name)]
public sealed class CacheShardGrainTests(ClusterFixture fixture)
{
    private ICacheShardGrain NewShard() => fixture.Grains.GetGrain<ICacheShardGrain>(Random.Shared.NextInt64(1_000_000, long.MaxValue));

    private static CachedCompletion Completion(string content) =>
        new("fake-small", "standard", content, "stop", 10, 5, ClusterFixture.Time.GetUtcNow());

    [Fact]
    public async Task An_entry_is_served_only_to_the_scope_it_was_made_in()
    {
        var shard = NewShard();
        await shard.PutAsync("key-1", "app-a", Completion("for a"), TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(async () => (await shard.GetStatsAsync()).Entries == 1, "the put");

        var fromB = await shard.GetAsync("key-1", "app-b");
        var fromA = await shard.GetAsync("key-1", "app-a");

        Assert.Null(fromB);
        Assert.Equal("for a", fromA?.Content);
        var stats = await shard.GetStatsAsync();
        Assert.Equal((1L, 1L), (stats.Hits, stats.Misses));
    }

    [Fact]
    public async Task An_entry_expires_after_its_ttl()
    {
        var shard = NewShard();
        await shard.PutAsync("key-ttl", "app-a", Completion("soon gone"), TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(async () => (await shard.GetStatsAsync()).Entries == 1, "the put");

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.NotNull(await shard.GetAsync("key-ttl", "app-a"));
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await shard.GetAsync("key-ttl", "app-a"));
        Assert.Equal(0, (await shard.GetStatsAsync()).Entries);
    }

    [Fact]
    public async Task A_full_shard_evicts_its_oldest_entries()
    {
        var shard = NewShard();
        var bound = PipelineTestSetup.CacheMaxEntriesPerShard;
        for (var i = 0; i < bound + 5; i++)
        {
            await shard.PutAsync($"key-{i}", "app-a", Completion($"answer {i}"), TimeSpan.FromMinutes(10));

            // Puts are one-way and Orleans does not promise their order; waiting for each keeps "oldest" well defined.
            var stored = i + 1;
            await Eventually.TrueAsync(async () => (await shard.GetStatsAsync()) is var s && s.Entries + s.Evictions == stored, $"put {i}");
        }

        var stats = await shard.GetStatsAsync();
        Assert.Equal(bound, stats.Entries);
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(await shard.GetAsync($"key-{i}", "app-a"));
        }

        Assert.Equal("answer 5", (await shard.GetAsync("key-5", "app-a"))?.Content);
        Assert.Equal($"answer {bound + 4}", (await shard.GetAsync($"key-{bound + 4}", "app-a"))?.Content);
    }
}
