using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Backends;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Savings;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.GrainTests.Savings;

/// <summary>
/// A shadow evaluator run against the cluster: its model calls go to a test upstream that answers by model, its
/// spend to a platform budget of the test's own, its evidence to the model quality grain. The quality grain only takes
/// evidence about configured models, so the pair is two models of the cluster's <c>breaker</c> tier (priced here as a
/// premium and a cheap model) on the <c>code</c> type, and tests compare the table before and after.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ShadowEvaluationTests(ClusterFixture fixture)
{
    private const string Reference = "the invoice backlog grew in march";
    private const string Cheaper = "the invoice backlog grew";

    // Token F1 of Cheaper against Reference: precision 4/4, recall 4/6.
    private const double ExpectedScore = 0.8;

    private sealed class Setup
    {
        public required string AppId { get; init; }
        public required string PlatformBudgetId { get; init; }
        public required ModelSpec Big { get; init; }
        public required ModelSpec Small { get; init; }
        public required ShadowEvaluator Evaluator { get; init; }
        public required AnsweringClient Upstream { get; init; }
    }

    private Setup NewSetup(double share = 1, int maxConcurrent = 2, bool smallIsExternal = true)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var big = new ModelSpec("fake-breaker-a", "shadow-test", 5m, 15m, 8_000, External: true);
        var small = new ModelSpec("fake-breaker-b", "shadow-test", 0.5m, 1.5m, 8_000, External: smallIsExternal);
        var catalog = new ModelCatalog(new ModelCatalogOptions
        {
            Tiers =
            {
                ["premium"] = new ModelTierOptions { Models = [Options(big)] },
                ["standard"] = new ModelTierOptions { Models = [Options(small)] },
            },
        });
        var upstream = new AnsweringClient(new Dictionary<string, string> { [big.Name] = Reference, [small.Name] = Cheaper });
        var options = Microsoft.Extensions.Options.Options.Create(new ShadowOptions
        {
            Share = share,
            MaxConcurrent = maxConcurrent,
            BudgetId = $"platform:shadow-{suffix}",
        });
        var evaluator = new ShadowEvaluator(
            fixture.Grains, new SingleBackend(upstream), catalog, new ShadowScorers([new OverlapScorer()], options), options,
            Microsoft.Extensions.Options.Options.Create(new JudgeOptions()), TokenEstimator.Default, ClusterFixture.Time, NullLogger<ShadowEvaluator>.Instance);
        return new Setup { AppId = $"sh-{suffix}", PlatformBudgetId = options.Value.BudgetId, Big = big, Small = small, Evaluator = evaluator, Upstream = upstream };
    }

    private static ModelOptions Options(ModelSpec spec) => new()
    {
        Name = spec.Name, Backend = spec.Backend, InputPricePer1K = spec.InputPricePer1K, OutputPricePer1K = spec.OutputPricePer1K,
        ContextWindow = spec.ContextWindow, External = spec.External,
    };

    /// <summary>A completed call of the setup's app as the pipeline leaves it: asked for premium (baseline big), served by <paramref name="served"/>.</summary>
    private static GovernedCallContext Completed(Setup setup, ModelSpec served, string? requestId = null, ReleaseChannel channel = ReleaseChannel.Published)
    {
        var id = requestId ?? Guid.NewGuid().ToString("N");
        var messages = new List<ChatTurn> { new("system", "Summarise."), new("user", "Invoices were late in March and the backlog grew.") };
        var request = new GovernedChatRequest("mak.x.y.z", id, "premium", messages, ChatParameters.None);
        return new GovernedCallContext(request, id, ClusterFixture.Time, null, CancellationToken.None)
        {
            AppId = setup.AppId,
            App = new AppProfile(setup.AppId, "team", Audience.Internal, [], ["standard", "premium"], "premium", $"app:{setup.AppId}", "v1", Channel: channel),
            QueryType = QueryTypes.Code,
            BaselineModel = setup.Big,
            InputTokens = 20,
            ReservedOutputTokens = 50,
            ServedModel = served.Name,
            Result = new GovernedChatResult(GovernedOutcome.Completed, id, null, null, null, null, served.Name, "premium",
                served == setup.Big ? Reference : Cheaper, "stop", new TokenUsage(20, 6), 0.01m, ClusterFixture.Time.GetUtcNow()),
        };
    }

    private async Task<IBudgetGrain> PlatformBudgetAsync(Setup setup, decimal limit = 1m)
    {
        var budget = fixture.Grains.GetGrain<IBudgetGrain>(setup.PlatformBudgetId);
        await budget.ConfigureAsync(new BudgetSettings(limit, BudgetPeriod.Day));
        return budget;
    }

    private sealed record Evidence(long Samples, long Shadow, double ScoreSum);

    /// <summary>What the quality table holds about <paramref name="model"/> for the code type now.</summary>
    private async Task<Evidence> EvidenceOfAsync(ModelSpec model)
    {
        var quality = (await fixture.Grains.GetGrain<IModelQualityGrain>(QueryTypes.Code).GetAsync()).Models.FirstOrDefault(m => m.Model == model.Name);
        return quality is null ? new Evidence(0, 0, 0) : new Evidence(quality.Samples, quality.SamplesBySource.GetValueOrDefault(QualitySources.Shadow), quality.Score * quality.Samples);
    }

    [Fact]
    public async Task A_call_served_by_the_baseline_is_shadowed_by_the_cheaper_model_charged_to_the_platform_budget_and_recorded_as_its_evidence()
    {
        var setup = NewSetup();
        var platform = await PlatformBudgetAsync(setup);
        var appBudget = fixture.Grains.GetGrain<IBudgetGrain>($"app:{setup.AppId}");
        await appBudget.ConfigureAsync(new BudgetSettings(1m, BudgetPeriod.Day));
        var (smallBefore, bigBefore) = (await EvidenceOfAsync(setup.Small), await EvidenceOfAsync(setup.Big));

        setup.Evaluator.Consider(Completed(setup, setup.Big));
        await setup.Evaluator.WhenIdleAsync();

        Assert.Equal(1, setup.Upstream.CallsTo(setup.Small.Name));
        Assert.Equal(0, setup.Upstream.CallsTo(setup.Big.Name));

        // The test upstream reports 20 input and 4 output tokens: (20 × 0.5 + 4 × 1.5) / 1000.
        var spent = await platform.GetAsync();
        Assert.Equal(0.016m, spent.SpentUsd);
        Assert.Equal(0, spent.ReservationsInFlight);
        Assert.Equal(0m, (await appBudget.GetAsync()).SpentUsd);

        var small = await EvidenceOfAsync(setup.Small);
        Assert.Equal(smallBefore.Samples + 1, small.Samples);
        Assert.Equal(smallBefore.Shadow + 1, small.Shadow);
        Assert.Equal(ExpectedScore, small.ScoreSum - smallBefore.ScoreSum, 2);
        Assert.Equal(bigBefore, await EvidenceOfAsync(setup.Big));
        Assert.Equal(1, setup.Evaluator.Stats.Recorded);
    }

    [Fact]
    public async Task A_call_a_cheaper_model_served_is_shadowed_by_the_baseline_and_the_evidence_is_about_the_cheaper_model()
    {
        var setup = NewSetup();
        var platform = await PlatformBudgetAsync(setup);
        var (smallBefore, bigBefore) = (await EvidenceOfAsync(setup.Small), await EvidenceOfAsync(setup.Big));

        setup.Evaluator.Consider(Completed(setup, setup.Small));
        await setup.Evaluator.WhenIdleAsync();

        Assert.Equal(1, setup.Upstream.CallsTo(setup.Big.Name));
        Assert.Equal(0, setup.Upstream.CallsTo(setup.Small.Name));
        Assert.Equal((20 * 5m + 4 * 15m) / 1000m, (await platform.GetAsync()).SpentUsd);
        var small = await EvidenceOfAsync(setup.Small);
        Assert.Equal(smallBefore.Shadow + 1, small.Shadow);
        Assert.Equal(ExpectedScore, small.ScoreSum - smallBefore.ScoreSum, 2);
        Assert.Equal(bigBefore, await EvidenceOfAsync(setup.Big));
    }

    [Fact]
    public async Task A_retried_request_is_evaluated_and_charged_once()
    {
        var setup = NewSetup();
        var platform = await PlatformBudgetAsync(setup);
        var requestId = Guid.NewGuid().ToString("N");
        var before = await EvidenceOfAsync(setup.Small);

        setup.Evaluator.Consider(Completed(setup, setup.Big, requestId));
        await setup.Evaluator.WhenIdleAsync();
        setup.Evaluator.Consider(Completed(setup, setup.Big, requestId));
        await setup.Evaluator.WhenIdleAsync();

        Assert.Equal(1, setup.Upstream.CallsTo(setup.Small.Name));
        Assert.Equal(0.016m, (await platform.GetAsync()).SpentUsd);
        Assert.Equal(before.Shadow + 1, (await EvidenceOfAsync(setup.Small)).Shadow);
        Assert.Equal(1, setup.Evaluator.Stats.Refused);
    }

    [Fact]
    public async Task Without_a_platform_budget_no_shadow_call_is_made()
    {
        var setup = NewSetup();
        var before = await EvidenceOfAsync(setup.Small);

        setup.Evaluator.Consider(Completed(setup, setup.Big));
        await setup.Evaluator.WhenIdleAsync();

        Assert.Equal(0, setup.Upstream.CallsTo(setup.Small.Name));
        Assert.Equal(1, setup.Evaluator.Stats.Refused);
        Assert.Equal(before, await EvidenceOfAsync(setup.Small));
    }

    [Fact]
    public async Task Cache_hits_test_keys_and_a_zero_share_are_never_shadowed()
    {
        var off = NewSetup(share: 0);
        await PlatformBudgetAsync(off);
        off.Evaluator.Consider(Completed(off, off.Big));

        var setup = NewSetup();
        await PlatformBudgetAsync(setup);
        var cached = Completed(setup, setup.Big);
        cached.CacheHit = true;
        setup.Evaluator.Consider(cached);
        setup.Evaluator.Consider(Completed(setup, setup.Big, channel: ReleaseChannel.Test));
        await off.Evaluator.WhenIdleAsync();
        await setup.Evaluator.WhenIdleAsync();

        Assert.Equal(0, off.Upstream.CallsTo(off.Small.Name));
        Assert.Equal(0, setup.Upstream.CallsTo(setup.Small.Name));
        Assert.Equal(0, setup.Evaluator.Stats.Picked);
        Assert.Equal(2, setup.Evaluator.Stats.Considered);
    }

    [Fact]
    public async Task A_call_served_by_an_internal_model_is_never_sent_to_an_external_one()
    {
        var setup = NewSetup(smallIsExternal: false);
        await PlatformBudgetAsync(setup);

        setup.Evaluator.Consider(Completed(setup, setup.Small));
        await setup.Evaluator.WhenIdleAsync();

        Assert.Equal(0, setup.Upstream.CallsTo(setup.Big.Name));
        Assert.Equal(1, setup.Evaluator.Stats.Skipped);
    }

    [Fact]
    public async Task Consider_returns_at_once_and_picks_beyond_the_concurrency_limit_are_dropped_and_counted()
    {
        var setup = NewSetup(maxConcurrent: 1);
        await PlatformBudgetAsync(setup);
        setup.Upstream.Hold();

        setup.Evaluator.Consider(Completed(setup, setup.Big));
        await setup.Upstream.FirstCallStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The first evaluation is stuck in its model call, and the caller was not held up by it.
        setup.Evaluator.Consider(Completed(setup, setup.Big));
        setup.Evaluator.Consider(Completed(setup, setup.Big));
        Assert.Equal(2, setup.Evaluator.Stats.Dropped);
        Assert.Equal(0, setup.Evaluator.Stats.Recorded);

        setup.Upstream.Release();
        await setup.Evaluator.WhenIdleAsync();
        Assert.Equal(1, setup.Evaluator.Stats.Recorded);
        Assert.Equal(1, setup.Upstream.CallsTo(setup.Small.Name));
    }

    /// <summary>Answers with a fixed text per model and reports 20 input and 4 output tokens; can hold calls until released.</summary>
    private sealed class AnsweringClient(IReadOnlyDictionary<string, string> answers) : IChatClient
    {
        private readonly ConcurrentDictionary<string, int> _calls = new();
        private TaskCompletionSource? _gate;

        public TaskCompletionSource FirstCallStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int CallsTo(string model) => _calls.GetValueOrDefault(model);

        public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate?.TrySetResult();

        public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var model = options?.ModelId ?? "";
            _calls.AddOrUpdate(model, 1, (_, n) => n + 1);
            FirstCallStarted.TrySetResult();
            if (_gate is { } gate)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            return new ChatResponse(new ChatMessage(ChatRole.Assistant, answers[model]))
            {
                ModelId = model,
                Usage = new UsageDetails { InputTokenCount = 20, OutputTokenCount = 4 },
            };
        }

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var response = await GetResponseAsync(messages, options, cancellationToken);
            yield return new ChatResponseUpdate(ChatRole.Assistant, response.Text);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private sealed class SingleBackend(IChatClient client) : IModelBackends
    {
        public IChatClient GetClient(string backend, string model) =>
            backend == "shadow-test" ? client : throw new InvalidOperationException($"no backend '{backend}'");
    }
}
