using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Governance;
using MicroApps.Orleans.Telemetry;

namespace MicroApps.Orleans.Savings;

/// <summary>
/// Quality evidence from what the platform already observes: user feedback joined to a call's trace, and prompt
/// regression test results of promotion gates. Plain functions, so the rules are tested without a cluster.
/// </summary>
public static class QualityEvidenceFrom
{
    /// <summary>
    /// Thumbs up (1) or down (0) on a call that a model answered (or whose cached answer a model made), about that
    /// model on the call's query type; null when the feedback has no thumbs or the trace has no type, model or answer.
    /// </summary>
    public static QualityEvidence? Feedback(TraceEvent trace, BizFeedback feedback, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(feedback);
        var outcome = TraceOutcomes.Normalize(trace.Outcome);
        var queryType = QueryTypes.Parse(trace.QueryType);
        var score = feedback.Thumbs switch
        {
            "up" => 1d,
            "down" => 0d,
            _ => (double?)null,
        };
        if (score is null || queryType is null || string.IsNullOrWhiteSpace(trace.Model)
            || outcome is not (TraceOutcomes.Success or TraceOutcomes.CacheHit))
        {
            return null;
        }

        // One id per request: evidence is idempotent by id, so a request's first thumbs is the one that counts (the
        // trace shows the latest), and a repeated report never weighs twice.
        return new QualityEvidence($"{QualitySources.Feedback}/{trace.AppId}/{trace.RequestId}", trace.Model, queryType, QualitySources.Feedback, score.Value, now);
    }

    /// <summary>
    /// A regression test run as evidence about the model that answered it: 1 when every assertion on the answer's
    /// content (contains, not_contains, regex, json_schema) held, 0 when one failed. Token and cost limits say nothing
    /// about quality, so a test with only those, or one that never got an answer, is no evidence.
    /// </summary>
    public static QualityEvidence? Regression(string appId, int version, RegressionTestRun run, string queryType, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        var quality = run.Assertions.Where(a => IsContentAssertion(a.Kind)).ToList();
        if (run.Error is not null || string.IsNullOrWhiteSpace(run.Model) || quality.Count == 0 || QueryTypes.Parse(queryType) is not { } type)
        {
            return null;
        }

        var score = quality.All(a => a.Passed) ? 1d : 0d;
        return new QualityEvidence(RegressionEvidenceId(appId, version, run.Name, run.Model), run.Model, type, QualitySources.Regression, score, now);
    }

    /// <summary>One id per (app, version, test, model): a version submitted again does not count its tests twice.</summary>
    public static string RegressionEvidenceId(string appId, int version, string testName, string model) =>
        $"{QualitySources.Regression}/{appId}/v{version}/{testName}/{model}";

    /// <summary>
    /// The query type of an app's call outside the governed call (a regression test), as the savings router types a
    /// live call: the app's declared task, else the query classifier over the messages.
    /// </summary>
    public static string QueryTypeOf(AppManifest manifest, IReadOnlyList<ChatTurn> messages)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return QueryClassifier.Default.Classify(manifest.Savings?.Task, messages);
    }

    private static bool IsContentAssertion(string? kind) =>
        kind is RegressionAssertions.Contains or RegressionAssertions.NotContains or RegressionAssertions.Regex or RegressionAssertions.JsonSchema;
}
