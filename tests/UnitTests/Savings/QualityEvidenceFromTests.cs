using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Savings;
using MicroApps.Orleans.Telemetry;

namespace MicroApps.Orleans.UnitTests.Savings;

public sealed class QualityEvidenceFromTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static TraceEvent Trace(string outcome = TraceOutcomes.Success, string? queryType = QueryTypes.Summarise, string model = "gpt-4o-mini") =>
        new("app-a", "req-1", model, "standard", 10, 5, 12, "v1", 0.01m, "standard:gpt-4o-mini", outcome, null, "team", "hash", false, 0.01m, Now, [],
            QueryType: queryType);

    private static BizFeedback Thumbs(string? thumbs) => new(thumbs, null, null, null, Now);

    [Fact]
    public void Thumbs_up_is_1_and_down_is_0_about_the_model_that_answered()
    {
        var up = QualityEvidenceFrom.Feedback(Trace(), Thumbs("up"), Now)!;
        var down = QualityEvidenceFrom.Feedback(Trace(), Thumbs("down"), Now)!;

        Assert.Equal(1d, up.Score);
        Assert.Equal(0d, down.Score);
        Assert.Equal("feedback/app-a/req-1", up.EvidenceId);
        Assert.Equal("gpt-4o-mini", up.Model);
        Assert.Equal(QueryTypes.Summarise, up.QueryType);
        Assert.Equal(QualitySources.Feedback, up.Source);
    }

    [Fact]
    public void Feedback_on_a_cached_answer_counts_for_the_model_that_made_it()
    {
        Assert.NotNull(QualityEvidenceFrom.Feedback(Trace(TraceOutcomes.CacheHit), Thumbs("up"), Now));
        Assert.NotNull(QualityEvidenceFrom.Feedback(Trace("Completed"), Thumbs("up"), Now));
    }

    [Fact]
    public void Feedback_without_thumbs_or_on_a_refused_or_unclassified_call_is_no_evidence()
    {
        Assert.Null(QualityEvidenceFrom.Feedback(Trace(), Thumbs(null) with { Label = "resolved" }, Now));
        Assert.Null(QualityEvidenceFrom.Feedback(Trace(TraceOutcomes.Throttled), Thumbs("down"), Now));
        Assert.Null(QualityEvidenceFrom.Feedback(Trace(TraceOutcomes.Error), Thumbs("down"), Now));
        Assert.Null(QualityEvidenceFrom.Feedback(Trace(queryType: null), Thumbs("up"), Now));
        Assert.Null(QualityEvidenceFrom.Feedback(Trace(model: ""), Thumbs("up"), Now));
    }

    private static RegressionTestRun Run(bool passed, params (string Kind, bool Passed)[] assertions) =>
        new("totals are right", passed, null, "gpt-4o-mini", new TokenUsage(10, 5), 0.01m,
            assertions.Select((a, i) => new AssertionRun(i, a.Kind, "x", a.Passed, "")).ToList());

    [Fact]
    public void A_regression_test_is_1_when_its_content_assertions_hold_and_0_when_one_fails()
    {
        var pass = QualityEvidenceFrom.Regression("app-a", 3, Run(true, ("contains", true), ("regex", true)), QueryTypes.Extract, Now)!;
        var fail = QualityEvidenceFrom.Regression("app-a", 3, Run(false, ("contains", true), ("json_schema", false)), QueryTypes.Extract, Now)!;

        Assert.Equal(1d, pass.Score);
        Assert.Equal(0d, fail.Score);
        Assert.Equal("regression/app-a/v3/totals are right/gpt-4o-mini", pass.EvidenceId);
        Assert.Equal(QualitySources.Regression, pass.Source);
        Assert.Equal(QueryTypes.Extract, pass.QueryType);
    }

    [Fact]
    public void Token_and_cost_limits_are_not_quality()
    {
        // The answer was right; only the cost limit failed: still good quality.
        var costOnlyFailed = QualityEvidenceFrom.Regression("app-a", 1, Run(false, ("contains", true), ("max_cost_usd", false)), QueryTypes.Chat, Now)!;

        Assert.Equal(1d, costOnlyFailed.Score);
        Assert.Null(QualityEvidenceFrom.Regression("app-a", 1, Run(true, ("max_tokens", true)), QueryTypes.Chat, Now));
    }

    [Fact]
    public void A_test_that_got_no_answer_is_no_evidence()
    {
        var refused = Run(false, ("contains", false)) with { Error = "the governed call was refused" };

        Assert.Null(QualityEvidenceFrom.Regression("app-a", 1, refused, QueryTypes.Chat, Now));
    }

    [Fact]
    public void The_query_type_of_a_test_is_the_apps_task_else_the_classifiers()
    {
        var manifest = new AppManifest("n", "o@x", "t", Audience.Internal, [], ["standard"], "standard", new AppQuotas(0, 0), "", "v1");
        IReadOnlyList<ChatTurn> summarise = [new ChatTurn("user", "Summarise this report in three bullet points: sales rose in March.")];

        Assert.Equal(QueryTypes.Chat, QualityEvidenceFrom.QueryTypeOf(manifest, [new ChatTurn("user", "hi")]));
        Assert.Equal(QueryTypes.Summarise, QualityEvidenceFrom.QueryTypeOf(manifest, summarise));
        Assert.Equal(QueryTypes.Classify, QualityEvidenceFrom.QueryTypeOf(manifest with { Savings = new SavingsSettings(Task: "Classify") }, summarise));
    }
}
