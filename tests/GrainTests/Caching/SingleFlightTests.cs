using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Caching;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace MicroApps.Orleans.GrainTests.Caching;

/// <summary>Single-flight on the cache shard grain, called from both silos of the test cluster, and through the governed call.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SingleFlightTests(ClusterFixture fixture)
{
    private const string GatedBackend = "gated";
    private const string GatedModel = "fake-gated";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    /// <summary>Answers only when the test opens the gate of its prompt, so concurrent calls are sure to overlap.</summary>
    private static GatedChatClient Gated { get; } = new();

#pragma warning disable CA2255 // The shared cluster reads its settings when it starts; this runs before any test.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Configure()
    {
        const string prefix = "Models:Tiers:gated:Models:0:";
        ClusterFixture.SiloSettings[prefix + "Name"] = GatedModel;
        ClusterFixture.SiloSettings[prefix + "Backend"] = GatedBackend;
        ClusterFixture.SiloSettings[prefix + "InputPricePer1K"] = "1";
        ClusterFixture.SiloSettings[prefix + "OutputPricePer1K"] = "1";
        ClusterFixture.SiloSettings[prefix + "ContextWindow"] = "4000";
        ClusterFixture.SiloServices.Add(services => services.AddKeyedSingleton<IChatClient>(GatedBackend, Gated));
    }

    /// <summary>A grain factory used from inside silo <paramref name="index"/>, so the call starts on that silo.</summary>
    private IGrainFactory FromSilo(int index) =>
        fixture.Cluster.Silos.Cast<InProcessSiloHandle>().ElementAt(index).SiloHost.Services.GetRequiredService<IGrainFactory>();

    private static CachedCompletion Answer(string content) => new("fake-small", "standard", content, "stop", 40, 10, ClusterFixture.Time.GetUtcNow());

    private static (long Shard, string Key) NewKey()
    {
        var key = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        return (CacheKey.ShardFor(key, 4), key);
    }

    private async Task JoinedAsync(long shard, long joinsBefore, long expected) =>
        await Eventually.TrueAsync(async () => (await fixture.Grains.GetGrain<ICacheShardGrain>(shard).GetStatsAsync()).SingleFlightJoins >= joinsBefore + expected, $"{expected} waiters");

    [Fact]
    public async Task A_caller_on_the_other_silo_waits_for_the_leaders_answer_and_another_scope_never_does()
    {
        var (shardId, key) = NewKey();
        var onFirst = FromSilo(0).GetGrain<ICacheShardGrain>(shardId);
        var onSecond = FromSilo(1).GetGrain<ICacheShardGrain>(shardId);
        var joinsBefore = (await onFirst.GetStatsAsync()).SingleFlightJoins;

        var lead = await onFirst.GetOrJoinAsync(key, "app-a", "r1", Wait);
        var follower = onSecond.GetOrJoinAsync(key, "app-a", "r2", Wait);
        await JoinedAsync(shardId, joinsBefore, 1);
        var otherApp = await onSecond.GetOrJoinAsync(key, "app-b", "r3", Wait);
        Assert.False(follower.IsCompleted);
        await onFirst.PutAsync(key, "app-a", Answer("shared"), TimeSpan.FromMinutes(5));
        var joined = await follower;

        Assert.Equal(FlightRole.Lead, lead.Role);
        Assert.Equal(FlightRole.Joined, joined.Role);
        Assert.Equal("shared", joined.Completion?.Content);
        Assert.Equal(FlightRole.Lead, otherApp.Role);
        Assert.Equal(FlightRole.Hit, (await onSecond.GetOrJoinAsync(key, "app-a", "r4", Wait)).Role);
    }

    [Fact]
    public async Task A_leader_that_abandons_releases_its_waiters()
    {
        var (shardId, key) = NewKey();
        var onFirst = FromSilo(0).GetGrain<ICacheShardGrain>(shardId);
        var onSecond = FromSilo(1).GetGrain<ICacheShardGrain>(shardId);
        var joinsBefore = (await onFirst.GetStatsAsync()).SingleFlightJoins;

        await onFirst.GetOrJoinAsync(key, "app-a", "r1", Wait);
        var follower = onSecond.GetOrJoinAsync(key, "app-a", "r2", Wait);
        await JoinedAsync(shardId, joinsBefore, 1);
        await onFirst.AbandonAsync(key, "app-a", "someone-else");
        Assert.False(follower.IsCompleted);
        await onFirst.AbandonAsync(key, "app-a", "r1");

        Assert.Equal(new FlightResult(FlightRole.Released, null), await follower);
        Assert.Equal(FlightRole.Lead, (await onSecond.GetOrJoinAsync(key, "app-a", "r3", Wait)).Role);
    }

    [Fact]
    public async Task Waiters_of_a_leader_that_never_reports_are_released_after_the_wait_and_the_next_caller_leads()
    {
        var (shardId, key) = NewKey();
        var onFirst = FromSilo(0).GetGrain<ICacheShardGrain>(shardId);
        var onSecond = FromSilo(1).GetGrain<ICacheShardGrain>(shardId);
        var joinsBefore = (await onFirst.GetStatsAsync()).SingleFlightJoins;

        await onFirst.GetOrJoinAsync(key, "app-a", "gone", Wait);
        var follower = onSecond.GetOrJoinAsync(key, "app-a", "r2", Wait);
        await JoinedAsync(shardId, joinsBefore, 1);
        Assert.False(follower.IsCompleted);
        ClusterFixture.Time.Advance(Wait);

        Assert.Equal(FlightRole.Released, (await follower).Role);
        Assert.Equal(FlightRole.Lead, (await onSecond.GetOrJoinAsync(key, "app-a", "r3", Wait)).Role);
    }

    [Fact]
    public async Task Concurrent_identical_calls_share_one_backend_call_and_only_the_leader_pays()
    {
        const int callers = 5;
        var appId = $"sf-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest("Single-flight test", "ada@example.org", "finance", Audience.Internal, [], ["gated"], "gated", new AppQuotas(0, 0), "", "v1"));
        var key = await app.IssueKeyAsync("test");
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}");
        await budget.ConfigureAsync(new BudgetSettings(10m, BudgetPeriod.Day));
        var prompt = $"share me {Guid.NewGuid():N}";
        var joinsBefore = await TotalJoinsAsync();
        GovernedChatRequest Request() => new(key.ApiKey, Guid.NewGuid().ToString("N"), GatedModel, [new ChatTurn("user", prompt)], ChatParameters.None);

        // The leader first, so it is the one at the backend; then the others, from both silos' governed-call workers.
        var leader = fixture.Grains.GetGrain<IGovernedCallGrain>(0).CompleteAsync(Request());
        await Eventually.TrueAsync(() => Task.FromResult(Gated.CallsTo(prompt) == 1), "the leader at the backend");
        var followers = Enumerable.Range(0, callers - 1)
            .Select(i => FromSilo(i % 2).GetGrain<IGovernedCallGrain>(0).CompleteAsync(Request()))
            .ToArray();
        await Eventually.TrueAsync(async () => await TotalJoinsAsync() == joinsBefore + callers - 1, "the followers waiting");
        Gated.Open(prompt);
        var results = await Task.WhenAll([leader, .. followers]);

        Assert.Equal(1, Gated.CallsTo(prompt));
        Assert.All(results, r => Assert.Equal($"gated: {prompt}", r.Content));
        Assert.Equal(GovernedOutcome.Completed, results[0].Outcome);
        Assert.All(results[1..], r => Assert.Equal((GovernedOutcome.CacheHit, 0m), (r.Outcome, r.CostUsd)));
        var state = await budget.GetAsync();
        Assert.Equal(results[0].CostUsd, state.SpentUsd);
        Assert.Equal(0, state.ReservationsInFlight);
        var traces = fixture.Cluster.Silos.Cast<InProcessSiloHandle>()
            .SelectMany(s => s.SiloHost.Services.GetRequiredService<InMemoryTraceSink>().Recent())
            .Where(e => e.AppId == appId)
            .ToArray();
        Assert.Equal(callers - 1, traces.Count(t => t.Decisions.Contains("cache:single-flight") && t.CacheHit && t.Saving == global::MicroApps.Orleans.Savings.SavingKinds.Cache));
    }

    private async Task<long> TotalJoinsAsync()
    {
        long total = 0;
        for (var shard = 0; shard < 4; shard++)
        {
            total += (await fixture.Grains.GetGrain<ICacheShardGrain>(shard).GetStatsAsync()).SingleFlightJoins;
        }

        return total;
    }

    private sealed class GatedChatClient : IChatClient
    {
        private readonly ConcurrentDictionary<string, int> _calls = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();

        public int CallsTo(string prompt) => _calls.GetValueOrDefault(prompt);

        public void Open(string prompt) => Gate(prompt).TrySetResult();

        public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var prompt = messages.Last(m => m.Role == ChatRole.User).Text;
            _calls.AddOrUpdate(prompt, 1, (_, n) => n + 1);
            await Gate(prompt).Task.WaitAsync(cancellationToken);
            return new ChatResponse(new ChatMessage(ChatRole.Assistant, $"gated: {prompt}"))
            {
                ModelId = options?.ModelId,
                FinishReason = ChatFinishReason.Stop,
                Usage = new UsageDetails { InputTokenCount = 40, OutputTokenCount = 10 },
            };
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The gated backend answers non-streaming calls only.");

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

        public void Dispose()
        {
        }

        private TaskCompletionSource Gate(string prompt) => _gates.GetOrAdd(prompt, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
