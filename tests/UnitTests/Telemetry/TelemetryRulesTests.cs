using MicroApps.Orleans.Telemetry;

namespace MicroApps.Orleans.UnitTests.Telemetry;

public sealed class TelemetryRulesTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-29T12:00:00Z");

    [Fact]
    public void A_day_of_traces_with_every_filter_is_valid()
    {
        var query = new TraceQuery(Now.AddDays(-1), Now, "app-a", "team", "gpt-4o", "standard", "success", "v1", "req-1", 1000, "10");
        Assert.Empty(TelemetryRules.Validate(query));
        Assert.Empty(TelemetryRules.Validate(new TraceQuery(Now.AddDays(-31), Now)));
    }

    [Theory]
    [InlineData(-1, -2, 100, null, "to")]
    [InlineData(0, 0, 100, null, "to")]
    [InlineData(-24 * 32, 0, 100, null, "from")]
    [InlineData(-1, 0, 0, null, "pageSize")]
    [InlineData(-1, 0, 1001, null, "pageSize")]
    [InlineData(-1, 0, 100, "Completed", "outcome")]
    public void An_invalid_trace_query_names_the_field(int fromHours, int toHours, int pageSize, string? outcome, string field)
    {
        var errors = TelemetryRules.Validate(new TraceQuery(Now.AddHours(fromHours), Now.AddHours(toHours), PageSize: pageSize, Outcome: outcome));
        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void A_malformed_app_id_or_request_id_is_named()
    {
        Assert.Equal(["appId"], TelemetryRules.Validate(new TraceQuery(Now.AddHours(-1), Now, AppId: "Not An App")).Keys);
        Assert.Equal(["requestId"], TelemetryRules.Validate(new TraceQuery(Now.AddHours(-1), Now, RequestId: new string('r', 129))).Keys);
    }

    [Fact]
    public void A_prompt_search_names_its_text_q()
    {
        Assert.Empty(TelemetryRules.Validate(new PromptSearchQuery("refund", Now.AddHours(-1), Now)));
        Assert.Equal(["q"], TelemetryRules.Validate(new PromptSearchQuery("", Now.AddHours(-1), Now)).Keys);
        Assert.Equal(["q"], TelemetryRules.Validate(new PromptSearchQuery("  ", Now.AddHours(-1), Now)).Keys);
        Assert.Equal(["q"], TelemetryRules.Validate(new PromptSearchQuery(new string('x', 201), Now.AddHours(-1), Now)).Keys);
        Assert.Equal(["pageSize"], TelemetryRules.Validate(new PromptSearchQuery("x", Now.AddHours(-1), Now, PageSize: 0)).Keys);
    }

    [Theory]
    [InlineData("up", null, null, null, null)]
    [InlineData(null, "refund.requested_v2", null, null, null)]
    [InlineData(null, null, true, null, null)]
    [InlineData(null, null, null, 12.5, null)]
    [InlineData(null, null, null, null, "feedback")]
    [InlineData("sideways", null, null, null, "thumbs")]
    [InlineData("UP", null, null, null, "thumbs")]
    [InlineData(null, "has space", null, null, "label")]
    [InlineData(null, "", null, null, "label")]
    [InlineData(null, null, null, double.NaN, "value")]
    [InlineData(null, null, null, double.PositiveInfinity, "value")]
    public void Feedback_is_checked_field_by_field(string? thumbs, string? label, bool? converted, double? value, string? field)
    {
        var errors = TelemetryRules.Validate(new BizFeedback(thumbs, label, converted, value, Now));
        Assert.Equal(field is null ? [] : [field], errors.Keys);
    }

    [Fact]
    public void A_label_is_at_most_64_characters()
    {
        Assert.True(TelemetryRules.IsValidLabel(new string('a', 64)));
        Assert.False(TelemetryRules.IsValidLabel(new string('a', 65)));
    }
}
