using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;

namespace MicroApps.Orleans.GrainTests.TraceQueries;

/// <summary>The telemetry grain over the cluster's shared trace store: validation names the field, feedback joins by app and request.</summary>
[Collection(ClusterCollection.Name)]
public sealed class TelemetryGrainTests(ClusterFixture fixture)
{
    private static readonly DateTimeOffset Day = new(2023, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private ITelemetryGrain Telemetry => fixture.Grains.GetGrain<ITelemetryGrain>(0);

    [Theory]
    [InlineData(0, 100, null, "to")]
    [InlineData(-24 * 40, 100, null, "from")]
    [InlineData(-1, 0, null, "pageSize")]
    [InlineData(-1, 100, "Completed", "outcome")]
    public async Task An_invalid_query_is_refused_naming_the_field(int fromHours, int pageSize, string? outcome, string field)
    {
        var query = new TraceQuery(Day.AddHours(fromHours), Day, PageSize: pageSize, Outcome: outcome);

        var error = await Assert.ThrowsAsync<InvalidTelemetryRequestException>(() => Telemetry.QueryTracesAsync(query));

        Assert.Equal(field, error.Field);
        Assert.Equal(field, error.ParamName);
        Assert.StartsWith(field, error.Message);
    }

    [Fact]
    public async Task A_continuation_token_the_store_did_not_issue_is_refused_as_continuationToken()
    {
        var error = await Assert.ThrowsAsync<InvalidTelemetryRequestException>(() =>
            Telemetry.QueryTracesAsync(new TraceQuery(Day.AddHours(-1), Day, ContinuationToken: "not-a-token")));

        Assert.Equal("continuationToken", error.ParamName);
    }

    [Fact]
    public async Task Feedback_joins_the_apps_own_trace_and_is_stamped_by_the_platform_clock()
    {
        var appId = "tel-" + Guid.NewGuid().ToString("N")[..12];
        var requestId = "req-" + Guid.NewGuid().ToString("N");
        await ClusterFixture.Traces.AppendAsync([Event(appId, requestId)], []);

        var unknown = await Telemetry.RecordFeedbackAsync("tel-other-app", requestId, new BizFeedback("up", null, null, null, default));
        var recorded = await Telemetry.RecordFeedbackAsync(appId, requestId, new BizFeedback("down", "wrong.answer", false, 0.5, default));

        Assert.Equal(FeedbackOutcome.UnknownRequest, unknown);
        Assert.Equal(FeedbackOutcome.Recorded, recorded);
        var trace = await Telemetry.FindTraceAsync(appId, requestId);
        Assert.NotNull(trace);
        Assert.Equal("thumbs=down;label=wrong.answer;converted=false;value=0.5", trace.Event.BizMetric);
        Assert.Equal(ClusterFixture.Time.GetUtcNow(), trace.Feedback!.ReportedAt);
    }

    [Theory]
    [InlineData(null, null, "feedback")]
    [InlineData("meh", null, "thumbs")]
    [InlineData(null, "no spaces allowed", "label")]
    public async Task Invalid_feedback_is_refused_naming_the_field(string? thumbs, string? label, string field)
    {
        var error = await Assert.ThrowsAsync<InvalidTelemetryRequestException>(() =>
            Telemetry.RecordFeedbackAsync("tel-app", "req-1", new BizFeedback(thumbs, label, null, null, default)));

        Assert.Equal(field, error.ParamName);
    }

    private static TraceEvent Event(string appId, string requestId) =>
        new(appId, requestId, "gpt-4o-mini", "standard", 10, 5, 20, "v1", 0.001m, "standard:gpt-4o-mini", TraceOutcomes.Success, null, "team",
            "hash", false, 0.001m, Day.AddMinutes(-30), ["admitted"]);
}
