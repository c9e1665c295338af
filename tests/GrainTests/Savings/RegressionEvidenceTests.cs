using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Savings;

namespace MicroApps.Orleans.GrainTests.Savings;

/// <summary>
/// A promotion's regression tests become quality evidence about the model that answered them. The fake backend answers
/// <c>echo: {input}</c>, so "contains hello" passes and "not_contains hello" fails. The quality tables are shared by
/// the cluster's tests, so this one uses a (type, model) pair the routing tests do not read and compares before and after.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RegressionEvidenceTests(ClusterFixture fixture)
{
    private const string Author = "author-alice";

    private static RegressionTestCase Test(string name, params (string Kind, string Value)[] assertions) =>
        new(name, "hello world", assertions.Select(a => new RegressionAssertion(a.Kind, a.Value)).ToList(), "fake-large");

    private async Task<(long Regression, double ScoreSum)> RegressionEvidenceAsync()
    {
        var quality = (await fixture.Grains.GetGrain<IModelQualityGrain>(QueryTypes.Summarise).GetAsync()).Models.FirstOrDefault(m => m.Model == "fake-large");
        return quality is null ? (0, 0) : (quality.SamplesBySource.GetValueOrDefault(QualitySources.Regression), quality.Score * quality.Samples);
    }

    [Fact]
    public async Task Each_answered_test_is_evidence_about_its_model_once_per_version_pass_1_fail_0()
    {
        var appId = $"re-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        var manifest = new AppManifest(
            "Evidence app", Author, "finance", Audience.Internal, [], ["standard"], "standard", new AppQuotas(30, 100_000), "", "v1",
            Tests:
            [
                Test("echoes", ("contains", "hello")),
                Test("formal", ("not_contains", "hello")),
                Test("short", ("max_tokens", "1000")),
            ],
            ExpectedCallsPerMonth: 10,
            Savings: new SavingsSettings(Task: QueryTypes.Summarise));
        await app.CreateDraftAsync(manifest, Author);
        await fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}").ConfigureAsync(new BudgetSettings(50m, BudgetPeriod.Month));
        var before = await RegressionEvidenceAsync();

        var first = await fixture.Grains.GetGrain<IPromotionGrain>(appId).SubmitAsync(1, Author);

        Assert.Equal(SubmissionOutcome.ReturnedToDraft, first.Outcome);
        var after = await RegressionEvidenceAsync();

        // "short" asserts only a token limit: no evidence. One pass (1) and one failure (0).
        Assert.Equal(before.Regression + 2, after.Regression);
        Assert.Equal(1d, after.ScoreSum - before.ScoreSum, 2);

        // The same version submitted again does not count its tests twice.
        await fixture.Grains.GetGrain<IPromotionGrain>(appId).SubmitAsync(1, Author);
        Assert.Equal(after.Regression, (await RegressionEvidenceAsync()).Regression);
    }
}
