using MicroApps.Orleans.Policies;
using static MicroApps.Orleans.UnitTests.Policies.PolicyTestData;

namespace MicroApps.Orleans.UnitTests.Policies;

public sealed class PolicyEvaluatorTests
{
    private static readonly PolicyDocument Issue = Parse(IssueExample);

    [Fact]
    public void The_issue_policy_blocks_a_premium_call_of_an_app_that_declares_pii()
    {
        var decision = PolicyEvaluator.Evaluate(Issue, 3, Facts(declared: ["email"], tier: "premium"));

        Assert.True(decision.Blocked);
        Assert.Equal("prevent_external_llm_for_pii", decision.BlockedBy!.PolicyId);
        Assert.Equal("Block calls to premium external LLMs if app accesses PII", decision.BlockedBy.Description);
        Assert.Equal("app.data_contains ∋ email; model.tier = premium", decision.BlockedBy.Why);
        Assert.Equal("block:prevent_external_llm_for_pii", decision.Summary);
        Assert.Equal(3, decision.PolicyVersion);
    }

    [Fact]
    public void The_issue_policy_blocks_when_the_scan_found_pii_the_app_did_not_declare()
    {
        var decision = PolicyEvaluator.Evaluate(Issue, 1, Facts(declared: [], pii: ["email"], tier: "premium"));
        Assert.True(decision.Blocked);
    }

    [Theory]
    [InlineData("standard", "email")]
    [InlineData("premium", null)]
    [InlineData(null, "email")]
    public void The_issue_policy_needs_both_conditions(string? tier, string? pii)
    {
        var decision = PolicyEvaluator.Evaluate(Issue, 1, Facts(pii: pii is null ? [] : [pii], tier: tier));

        Assert.False(decision.Blocked);
        Assert.Empty(decision.Matches);
        Assert.Equal(PolicyEvaluator.AllowByDefault, decision.Summary);
    }

    [Fact]
    public void A_list_value_matches_any_of_its_items_case_insensitively()
    {
        Assert.True(PolicyEvaluator.Evaluate(Issue, 1, Facts(declared: ["SSN"], tier: "Premium")).Blocked);
        Assert.True(PolicyEvaluator.Evaluate(Issue, 1, Facts(declared: ["phone", "address"], tier: "premium")).Blocked);
        Assert.False(PolicyEvaluator.Evaluate(Issue, 1, Facts(declared: ["address"], tier: "premium")).Blocked);
    }

    [Fact]
    public void With_no_document_nothing_matches_and_the_call_is_allowed_by_default()
    {
        var decision = PolicyEvaluator.Evaluate(null, 0, Facts(declared: ["email"], tier: "premium"));

        Assert.Equal(new PolicyDecision(0, false, null, null, false, false, [], "allow:default"), decision with { Matches = [] });
        Assert.Empty(decision.Matches);
    }

    public static TheoryData<string, PolicyFacts, PolicyFacts> EveryFact => new()
    {
        { "app.data_contains: [ssn]", Facts(declared: ["ssn"]), Facts(declared: ["email"]) },
        { "app.data_contains: email", Facts(pii: ["email"]), Facts(pii: []) },
        { "app.audience: external", Facts(audience: "external"), Facts(audience: "internal") },
        { "app.id: [app-1, app-2]", Facts(appId: "app-2"), Facts(appId: "app-3") },
        { "app.team: finance", Facts(team: "finance"), Facts(team: "sales") },
        { "model.tier: premium", Facts(tier: "premium"), Facts(tier: "standard") },
        { "model.external: true", Facts(external: true), Facts(external: false) },
        { "model.external: false", Facts(external: false), Facts(external: true) },
        { "request.pii: [email, phone]", Facts(pii: ["phone"]), Facts(pii: ["ssn"]) },
        { "request.pii: true", Facts(pii: ["ssn"]), Facts(pii: []) },
        { "request.pii: false", Facts(pii: []), Facts(pii: ["ssn"]) },
        { "request.tokens_estimate: \">= 1000\"", Facts(tokens: 1000), Facts(tokens: 999) },
        { "request.tokens_estimate: {gt: 10, lte: 20}", Facts(tokens: 20), Facts(tokens: 21) },
        { "request.cost_estimate_usd: \"> 0.05\"", Facts(cost: 0.0501m), Facts(cost: 0.05m) },
        { "request.cost_estimate_usd: \"< 5\"", Facts(cost: 4.99m), Facts(cost: 5m) },
        { "request.cost_estimate_usd: \"<= 5\"", Facts(cost: 5m), Facts(cost: 5.01m) },
        { "request.cost_estimate_usd: \"== 0\"", Facts(cost: 0m), Facts(cost: 0.01m) },
        { "request.cost_estimate_usd: \"!= 0\"", Facts(cost: 0.01m), Facts(cost: 0m) },
        { "request.cost_estimate_usd: {gte: 1}", Facts(cost: 1m), Facts(cost: 0.99m) },
        { "request.cost_estimate_usd: {lt: 1}", Facts(cost: 0.99m), Facts(cost: 1m) },
        { "request.cost_estimate_usd: {eq: 2}", Facts(cost: 2m), Facts(cost: 3m) },
        { "request.cost_estimate_usd: {ne: 2}", Facts(cost: 3m), Facts(cost: 2m) },
        { "prompt.version: [v2, v3]", Facts(prompt: "v3"), Facts(prompt: "v1") },
    };

    [Theory]
    [MemberData(nameof(EveryFact))]
    public void Every_fact_matches_its_value_and_not_another(string condition, PolicyFacts matching, PolicyFacts other)
    {
        var document = OnePolicy(condition);

        var hit = PolicyEvaluator.Evaluate(document, 1, matching);
        Assert.True(hit.Blocked, $"{condition} should match");
        Assert.StartsWith(condition.Split(':')[0], Assert.Single(hit.Matches).Why);
        Assert.False(PolicyEvaluator.Evaluate(document, 1, other).Blocked, $"{condition} should not match");
    }

    public static TheoryData<string, PolicyFacts> MissingFacts => new()
    {
        { "model.tier: premium", Facts(tier: null) },
        { "model.external: false", Facts(external: null) },
        { "request.pii: [email]", Facts(pii: null) },
        { "request.pii: false", Facts(pii: null) },
        { "request.tokens_estimate: \"!= 5\"", Facts(tokens: null) },
        { "request.cost_estimate_usd: \"!= 5\"", Facts(cost: null) },
        { "request.cost_estimate_usd: {lt: 100}", Facts(cost: null) },
    };

    [Theory]
    [MemberData(nameof(MissingFacts))]
    public void A_fact_that_is_not_available_never_matches_even_a_negative_test(string condition, PolicyFacts facts)
    {
        Assert.Empty(PolicyEvaluator.Evaluate(OnePolicy(condition), 1, facts).Matches);
    }

    [Fact]
    public void Conditions_given_as_a_single_map_must_all_hold()
    {
        var document = Parse("""
            policies:
              - id: costly-premium
                condition:
                  model.tier: premium
                  request.cost_estimate_usd: "> 0.05"
                action: block
            """);

        Assert.True(PolicyEvaluator.Evaluate(document, 1, Facts(tier: "premium", cost: 0.06m)).Blocked);
        Assert.False(PolicyEvaluator.Evaluate(document, 1, Facts(tier: "premium", cost: 0.04m)).Blocked);
        Assert.False(PolicyEvaluator.Evaluate(document, 1, Facts(tier: "standard", cost: 0.06m)).Blocked);
    }

    private static readonly PolicyDocument Everything = Parse("""
        policies:
          - id: allow-internal
            condition: {app.audience: internal}
            action: allow
          - id: mask-pii
            condition: {request.pii: true}
            action: redact
          - id: pii-on-prem
            condition: {request.pii: [email]}
            action: route
            tier: local
          - id: all-to-standard
            action: route
            tier: standard
          - id: canary-premium
            action: sample
            tier: premium
            share: 1
          - id: gate-external
            condition: {app.audience: external}
            action: require_approval
          - id: no-ssn
            condition: {request.pii: [ssn]}
            action: block
        """);

    [Fact]
    public void A_block_overrides_every_other_match_and_they_are_recorded_as_overridden()
    {
        var decision = PolicyEvaluator.Evaluate(Everything, 1, Facts(pii: ["ssn", "email"]));

        Assert.True(decision.Blocked);
        Assert.Equal("no-ssn", decision.BlockedBy!.PolicyId);
        Assert.Null(decision.RouteTier);
        Assert.False(decision.Redact);
        Assert.Equal(["allow-internal", "mask-pii", "pii-on-prem", "all-to-standard", "canary-premium", "no-ssn"], decision.Matches.Select(m => m.PolicyId));
        Assert.Equal(["no-ssn"], decision.Matches.Where(m => m.Applied).Select(m => m.PolicyId));
        Assert.Equal("block:no-ssn", decision.Summary);
    }

    [Fact]
    public void Redact_combines_with_the_first_matching_route_which_wins_over_later_routes_and_samples()
    {
        var decision = PolicyEvaluator.Evaluate(Everything, 1, Facts(pii: ["email"]));

        Assert.False(decision.Blocked);
        Assert.True(decision.Redact);
        Assert.Equal("local", decision.RouteTier);
        Assert.Equal(["allow-internal", "mask-pii", "pii-on-prem"], decision.Matches.Where(m => m.Applied).Select(m => m.PolicyId));
        Assert.Contains("overridden by a route", decision.Matches.Single(m => m.PolicyId == "canary-premium").Why);
        Assert.Equal("allow:allow-internal,redact:mask-pii,route:local(pii-on-prem)", decision.Summary);
    }

    [Fact]
    public void Require_approval_applies_alongside_a_route_and_an_allow_never_blocks()
    {
        var decision = PolicyEvaluator.Evaluate(Everything, 1, Facts(audience: "external", pii: []));

        Assert.True(decision.RequiresApproval);
        Assert.False(decision.Redact);
        Assert.Equal("standard", decision.RouteTier);
        Assert.Equal("route:standard(all-to-standard),require_approval:gate-external", decision.Summary);
    }

    [Fact]
    public void An_explicit_allow_is_recorded_and_does_not_undo_a_block()
    {
        var document = Parse("""
            policies:
              - id: allow-premium
                condition: {model.tier: premium}
                action: allow
              - id: block-external
                condition: {model.external: true}
                action: block
            """);

        var blocked = PolicyEvaluator.Evaluate(document, 1, Facts(tier: "premium", external: true));
        Assert.True(blocked.Blocked);
        Assert.False(blocked.Matches[0].Applied);

        var allowed = PolicyEvaluator.Evaluate(document, 1, Facts(tier: "premium", external: false));
        Assert.False(allowed.Blocked);
        Assert.Equal("allow:allow-premium", allowed.Summary);
        Assert.True(Assert.Single(allowed.Matches).Applied);
    }

    [Fact]
    public void A_sample_sends_roughly_its_share_of_sticky_keys_to_its_tier()
    {
        var document = Parse("""
            policies:
              - id: try-premium
                action: sample
                tier: premium
                share: 0.2
            """);

        const int Keys = 20_000;
        var sampled = Enumerable.Range(0, Keys).Count(i => PolicyEvaluator.Evaluate(document, 1, Facts(sticky: $"user-{i}")).RouteTier == "premium");

        Assert.InRange(sampled / (double)Keys, 0.18, 0.22);
    }

    [Fact]
    public void A_sample_is_sticky_per_key_and_needs_a_key()
    {
        var document = Parse("""
            policies:
              - id: half
                action: sample
                tier: premium
                share: 0.5
            """);

        for (var i = 0; i < 50; i++)
        {
            var first = PolicyEvaluator.Evaluate(document, 1, Facts(sticky: $"k{i}")).RouteTier;
            Assert.Equal(first, PolicyEvaluator.Evaluate(document, 1, Facts(sticky: $"k{i}")).RouteTier);
        }

        var none = PolicyEvaluator.Evaluate(document, 1, Facts(sticky: null));
        Assert.Null(none.RouteTier);
        Assert.Contains("no sticky key", Assert.Single(none.Matches).Why);
    }

    [Fact]
    public void Without_a_route_the_first_selected_sample_in_document_order_applies()
    {
        var document = Parse("""
            policies:
              - id: first
                action: sample
                tier: premium
                share: 1
              - id: second
                action: sample
                tier: local
                share: 1
            """);

        var decision = PolicyEvaluator.Evaluate(document, 1, Facts());

        Assert.Equal("premium", decision.RouteTier);
        Assert.Equal("sample:premium(first)", decision.Summary);
        Assert.False(decision.Matches[1].Applied);
    }

    [Fact]
    public void The_bucket_is_uniform_enough_across_deciles()
    {
        var counts = new int[10];
        for (var i = 0; i < 10_000; i++)
        {
            counts[(int)(PolicyEvaluator.Bucket($"p\nrequest-{i}") * 10)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 850, 1150));
    }
}
