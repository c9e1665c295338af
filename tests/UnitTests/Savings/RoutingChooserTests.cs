using MicroApps.Orleans.Savings;
using MicroApps.Orleans.Tiers;

namespace MicroApps.Orleans.UnitTests.Savings;

public sealed class RoutingChooserTests
{
    private static readonly ModelSpec Premium = new("big", "b", 5m, 15m, 128_000, true);
    private static readonly ModelSpec Premium2 = new("big-backup", "b", 6m, 18m, 128_000, true);
    private static readonly ModelSpec Standard = new("small", "b", 0.5m, 1.5m, 128_000, true);
    private static readonly ModelSpec Mini = new("tiny", "b", 0.1m, 0.3m, 128_000, true);
    private static readonly ModelSpec Local = new("local", "l", 0m, 0m, 8_192, false);

    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static QualityTable Table(params (string Model, double Score, long Samples)[] models) =>
        new(QueryTypes.Summarise, models.Select(m => new ModelQuality(m.Model, m.Score, m.Samples, new Dictionary<string, long> { [QualitySources.Shadow] = m.Samples })).ToArray(), Now);

    private static RouteRequest Request(QualityTable? table, double slo = 0.9, int minEvidence = 20, params RouteCandidate[] candidates) =>
        new(QueryTypes.Summarise, Premium, "premium",
            candidates.Length > 0 ? candidates : [new(Premium, "premium"), new(Standard, "standard"), new(Mini, "mini"), new(Local, "local")],
            table, slo, minEvidence, 1_000, 500);

    [Fact]
    public void The_cheapest_model_meeting_the_slo_is_chosen_and_the_others_that_qualify_follow_cheapest_first()
    {
        var choice = RouteChooser.Choose(Request(Table(("small", 0.95, 30), ("tiny", 0.91, 25), ("local", 0.5, 100))));

        Assert.True(choice.Moved);
        Assert.Equal("tiny", choice.Model.Name);
        Assert.Equal("mini", choice.Tier);
        Assert.Equal(["tiny", "small"], choice.Qualifying.Select(q => q.Candidate.Model.Name));
        Assert.Equal("routed", choice.Outcome);
        Assert.Contains("routed to tiny [mini]", choice.Explanation);
        Assert.Contains("local [local] score 0.5 n=100 $0: below SLO (0.5 < 0.9)", choice.Explanation);
        Assert.Contains("small [standard] score 0.95 n=30", choice.Explanation);
    }

    [Fact]
    public void A_score_exactly_at_the_slo_qualifies_and_one_just_below_does_not()
    {
        var at = RouteChooser.Choose(Request(Table(("small", 0.9, 20))));
        var below = RouteChooser.Choose(Request(Table(("small", 0.8999, 20))));

        Assert.Equal("small", at.Model.Name);
        Assert.False(below.Moved);
        Assert.Equal("big", below.Model.Name);
        Assert.Equal("below-slo", below.Outcome);
    }

    [Fact]
    public void The_bar_is_the_slo_times_the_references_trusted_estimate()
    {
        // Reference measured at 0.8: the bar is 0.72, so 0.75 qualifies; without trusted reference evidence it is 0.9.
        var measured = RouteChooser.Choose(Request(Table(("big", 0.8, 40), ("small", 0.75, 40))));
        var untrusted = RouteChooser.Choose(Request(Table(("big", 0.5, 3), ("small", 0.75, 40))));

        Assert.Equal("small", measured.Model.Name);
        Assert.Contains("bar 0.72", measured.Explanation);
        Assert.False(untrusted.Moved);
        Assert.Contains("counted as 1", untrusted.Explanation);
    }

    [Fact]
    public void With_too_little_evidence_the_call_stays_on_the_reference()
    {
        var few = RouteChooser.Choose(Request(Table(("small", 1.0, 19), ("tiny", 1.0, 2))));
        var none = RouteChooser.Choose(Request(null));

        Assert.False(few.Moved);
        Assert.Equal(Premium, few.Model);
        Assert.Equal("too-little-evidence", few.Outcome);
        Assert.Contains("too little evidence (19 < 20)", few.Explanation);
        Assert.Empty(few.Qualifying);
        Assert.False(none.Moved);
        Assert.Equal("too-little-evidence", none.Outcome);
    }

    [Fact]
    public void An_slo_of_zero_takes_the_cheapest_trusted_model_and_an_slo_of_one_needs_a_perfect_match()
    {
        var table = Table(("small", 0.99, 20), ("local", 0.1, 20));

        Assert.Equal("local", RouteChooser.Choose(Request(table, slo: 0)).Model.Name);
        Assert.False(RouteChooser.Choose(Request(table, slo: 1)).Moved);
        Assert.Equal("small", RouteChooser.Choose(Request(Table(("small", 1.0, 20)), slo: 1)).Model.Name);
    }

    [Fact]
    public void A_candidate_excluded_by_policy_or_health_is_never_chosen_however_good()
    {
        var table = Table(("small", 0.99, 50), ("tiny", 0.98, 50));
        var choice = RouteChooser.Choose(Request(table, candidates:
        [
            new(Premium, "premium"),
            new(Standard, "standard", "blocked by policy no_standard"),
            new(Mini, "mini", "circuit open"),
        ]));

        Assert.False(choice.Moved);
        Assert.Equal("no-cheaper-model", choice.Outcome);
        Assert.Contains("small [standard] score 0.99 n=50 $1.25: blocked by policy no_standard", choice.Explanation);
        Assert.Contains("circuit open", choice.Explanation);
    }

    [Fact]
    public void A_more_expensive_model_is_never_a_target_even_with_a_better_score()
    {
        var choice = RouteChooser.Choose(Request(Table(("big-backup", 1.0, 100)), candidates: [new(Premium, "premium"), new(Premium2, "premium")]));

        Assert.False(choice.Moved);
        Assert.Contains("big-backup [premium] score 1 n=100 $15: not cheaper", choice.Explanation);
    }

    [Fact]
    public void Equal_prices_prefer_the_higher_estimate()
    {
        var twin = Standard with { Name = "small-twin" };
        var choice = RouteChooser.Choose(Request(Table(("small", 0.92, 20), ("small-twin", 0.97, 20)), candidates: [new(Standard, "standard"), new(twin, "standard")]));

        Assert.Equal("small-twin", choice.Model.Name);
    }

    [Fact]
    public void Sampling_moves_to_the_best_estimated_cheaper_model_or_without_evidence_to_the_fallback_tiers_first_model()
    {
        var table = Table(("small", 0.8, 20), ("tiny", 0.95, 20), ("local", 0.99, 5));
        var best = RouteChooser.SampleOut(Request(table), new RouteCandidate(Standard, "standard"));
        var fallback = RouteChooser.SampleOut(Request(null), new RouteCandidate(Standard, "standard"));
        var nowhere = RouteChooser.SampleOut(Request(null), null);
        var blockedFallback = RouteChooser.SampleOut(Request(null), new RouteCandidate(Standard, "standard", "blocked by policy x"));

        Assert.Equal("tiny", best!.Model.Name);
        Assert.Equal("small", fallback!.Model.Name);
        Assert.Contains("sampling fallback tier", fallback.Explanation);
        Assert.Null(nowhere);
        Assert.Null(blockedFallback);
    }
}
