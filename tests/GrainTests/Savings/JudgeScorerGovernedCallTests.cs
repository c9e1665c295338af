using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.GrainTests.Gateway;
using MicroApps.Orleans.Savings;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.GrainTests.Savings;

/// <summary>
/// The judge scorer through the real governed call, against the grain tests' fake upstream, which answers
/// <c>echo: {last user message}</c>: the judge prompt ends with the candidate answer, so the echo's last number is the
/// candidate's, standing in for a judge's score.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class JudgeScorerGovernedCallTests(ClusterFixture fixture)
{
    private async Task<(string ApiKey, IBudgetGrain Budget, IMicroAppGrain App)> JudgeAppAsync()
    {
        var appId = $"judge-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest("Judge", "platform@example.org", "platform", Audience.Internal, [], ["standard"], "standard", new AppQuotas(0, 0), "", "v1"));
        var key = await app.IssueKeyAsync("judge");
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}");
        await budget.ConfigureAsync(new BudgetSettings(1m, BudgetPeriod.Day));
        return (key.ApiKey, budget, app);
    }

    private static JudgeScorer Scorer(string apiKey) =>
        new(null!, Options.Create(new JudgeOptions { ApiKey = apiKey, Model = "fake-small" }), NullLogger<JudgeScorer>.Instance);

    private static ShadowComparison Comparison(string candidate) => new(
        QueryTypes.Summarise,
        [new ChatTurn("user", $"Summarise the memo {Guid.NewGuid():N}")],
        "big", "The backlog grew.", "small", candidate, $"shadow/app/{Guid.NewGuid():N}");

    [Fact]
    public async Task The_judge_is_asked_through_the_governed_call_and_its_score_is_scaled_to_0_to_1()
    {
        var (apiKey, budget, _) = await JudgeAppAsync();
        var scorer = new JudgeScorer(fixture.Grains, Options.Create(new JudgeOptions { ApiKey = apiKey, Model = "fake-small" }), NullLogger<JudgeScorer>.Instance);
        var comparison = Comparison("The backlog grew by 7");

        var score = await scorer.ScoreAsync(comparison, CancellationToken.None);

        Assert.Equal(0.7, score);
        Assert.Equal(1, PipelineTestSetup.Fake.CallsTo(JudgeScorer.Prompt(comparison)[^1].Content));

        // Charged like any governed call, to the judge app's budget.
        Assert.True((await budget.GetAsync()).SpentUsd > 0m);
    }

    [Fact]
    public async Task A_refused_judge_call_is_no_evidence()
    {
        var (apiKey, _, app) = await JudgeAppAsync();
        await app.SetLifecycleAsync(AppLifecycle.Suspended);
        var scorer = new JudgeScorer(fixture.Grains, Options.Create(new JudgeOptions { ApiKey = apiKey, Model = "fake-small" }), NullLogger<JudgeScorer>.Instance);

        Assert.Null(await scorer.ScoreAsync(Comparison("The backlog grew by 7"), CancellationToken.None));
    }

    [Fact]
    public async Task Without_a_judge_key_the_judge_gives_no_score()
    {
        Assert.Null(await Scorer("").ScoreAsync(Comparison("7"), CancellationToken.None));
    }
}
