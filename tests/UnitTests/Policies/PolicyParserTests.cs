using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Policies;
using static MicroApps.Orleans.UnitTests.Policies.PolicyTestData;

namespace MicroApps.Orleans.UnitTests.Policies;

public sealed class PolicyParserTests
{
    [Fact]
    public void The_issue_example_parses_into_one_block_policy_and_default_quotas()
    {
        var document = Parse(IssueExample);

        var policy = Assert.Single(document.Policies);
        Assert.Equal("prevent_external_llm_for_pii", policy.Id);
        Assert.Equal("Block calls to premium external LLMs if app accesses PII", policy.Description);
        Assert.Equal(PolicyAction.Block, policy.Action);
        Assert.Collection(
            policy.Conditions,
            c => Assert.Equal(["email", "ssn", "phone"], Assert.IsType<AnyOfCondition>(c).Expected),
            c => Assert.Equal(["premium"], Assert.IsType<AnyOfCondition>(c).Expected));
        Assert.Equal(new AppQuotas(30, 100_000), document.Quotas.Default);
        Assert.Equal(new PolicyQuotas(new AppQuotas(30, 100_000), IsAppOverride: false), document.Quotas.For("any-app"));
    }

    [Fact]
    public void Per_app_quota_overrides_replace_and_fall_back_to_the_default_for_missing_limits()
    {
        var document = Parse("""
            quotas:
              default:
                tokens_per_day: 100000
                requests_per_minute: 30
              apps:
                big-app:
                  tokens_per_day: 5000000
            """);

        Assert.Equal(new PolicyQuotas(new AppQuotas(30, 5_000_000), IsAppOverride: true), document.Quotas.For("big-app"));
        Assert.Equal(new PolicyQuotas(new AppQuotas(30, 100_000), IsAppOverride: false), document.Quotas.For("other-app"));
        Assert.Empty(document.Policies);
    }

    [Fact]
    public void Without_a_quotas_section_no_policy_quotas_apply()
    {
        var document = Parse("policies: []");
        Assert.Null(document.Quotas.For("app-1"));
    }

    [Fact]
    public void A_condition_may_be_a_single_map_whose_keys_all_hold()
    {
        var document = Parse("""
            policies:
              - id: map-form
                condition:
                  model.tier: premium
                  request.cost_estimate_usd: "> 0.05"
                action: block
            """);

        Assert.Equal(2, document.Policies[0].Conditions.Count);
    }

    [Fact]
    public void Route_and_sample_carry_their_tier_and_share()
    {
        var document = Parse("""
            policies:
              - id: pii-on-prem
                condition:
                  - request.pii: [email]
                action: route
                tier: local
              - id: canary
                action: sample
                tier: premium
                share: 0.25
            """);

        Assert.Equal(("local", (double?)null), (document.Policies[0].Tier, document.Policies[0].Share));
        Assert.Equal(("premium", (double?)0.25), (document.Policies[1].Tier, document.Policies[1].Share));
        Assert.Empty(document.Policies[1].Conditions);
    }

    [Theory]
    [InlineData("\"> 0.05\"", ComparisonOperator.Greater, "0.05")]
    [InlineData("\">= 1000\"", ComparisonOperator.GreaterOrEqual, "1000")]
    [InlineData("\"< 5\"", ComparisonOperator.Less, "5")]
    [InlineData("\"<= 5\"", ComparisonOperator.LessOrEqual, "5")]
    [InlineData("\"== 5\"", ComparisonOperator.Equal, "5")]
    [InlineData("\"!= 5\"", ComparisonOperator.NotEqual, "5")]
    [InlineData("'>0.5'", ComparisonOperator.Greater, "0.5")]
    [InlineData("12", ComparisonOperator.Equal, "12")]
    [InlineData("{gt: 0.05}", ComparisonOperator.Greater, "0.05")]
    [InlineData("{gte: 7}", ComparisonOperator.GreaterOrEqual, "7")]
    [InlineData("{lt: 7}", ComparisonOperator.Less, "7")]
    [InlineData("{lte: 7}", ComparisonOperator.LessOrEqual, "7")]
    [InlineData("{eq: 7}", ComparisonOperator.Equal, "7")]
    [InlineData("{ne: 7}", ComparisonOperator.NotEqual, "7")]
    public void Numeric_facts_take_operator_strings_plain_numbers_and_the_map_form(string value, ComparisonOperator op, string operand)
    {
        var document = OnePolicy($"request.cost_estimate_usd: {value}");

        var comparison = Assert.Single(Assert.IsType<NumberCondition>(Assert.Single(document.Policies[0].Conditions)).Comparisons);
        Assert.Equal(new Comparison(op, decimal.Parse(operand, System.Globalization.CultureInfo.InvariantCulture)), comparison);
    }

    [Fact]
    public void A_yaml_syntax_error_is_reported_with_its_line_and_column()
    {
        var result = PolicyParser.Parse("""
            policies:
              - id: broken
                condition:
                  - model.tier: [premium
                action: block
            """);

        var error = Assert.Single(result.Errors);
        Assert.Null(result.Document);
        Assert.StartsWith("YAML syntax error", error.Message);
        Assert.Equal((4, 21), (error.Line, error.Column));
    }

    [Fact]
    public void A_mis_indented_key_is_a_syntax_error_at_that_line()
    {
        var result = PolicyParser.Parse("policies:\n  - id: a\n    action: block\n   tier: local\n");

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("YAML syntax error", error.Message);
        Assert.Equal((4, 4), (error.Line, error.Column));
    }

    [Fact]
    public void A_yaml_tab_indentation_error_names_where_it_is()
    {
        var result = PolicyParser.Parse("policies:\n  - id: a\n\taction: block\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal((2, 9), (error.Line, error.Column));
        Assert.Contains("tab", error.Message);
    }

    [Theory]
    [InlineData("unknown fact", "      - app.colour: red", 6, 9, "Unknown fact 'app.colour'")]
    [InlineData("wrong bool", "      - model.external: maybe", 6, 25, "model.external takes true or false, got 'maybe'")]
    [InlineData("bad operator string", "      - request.cost_estimate_usd: \"~> 5\"", 6, 36, "is not a comparison")]
    [InlineData("operator without number", "      - request.tokens_estimate: \"> lots\"", 6, 34, "'lots' is not a number")]
    [InlineData("bad operator key", "      - request.tokens_estimate: {between: 5}", 6, 35, "Unknown operator 'between'")]
    [InlineData("operand not a number", "      - request.tokens_estimate: {gt: many}", 6, 39, "request.tokens_estimate gt needs a number, got 'many'")]
    [InlineData("list for a number", "      - request.tokens_estimate: [1, 2]", 6, 34, "takes a number or a comparison")]
    [InlineData("map for names", "      - app.data_contains: {email: true}", 6, 28, "takes a name or a list of names")]
    [InlineData("empty list", "      - model.tier: []", 6, 21, "needs at least one value")]
    [InlineData("bad audience", "      - app.audience: everyone", 6, 23, "app.audience is one of internal, external, got 'everyone'")]
    [InlineData("item not a map", "      - premium", 6, 9, "Each condition must be a map")]
    public void Semantic_errors_in_conditions_name_the_line_and_column(string because, string conditionLine, int line, int column, string message)
    {
        var result = PolicyParser.Parse($"""
            policies:
              - id: p1
                description: d
                action: block
                condition:
            {conditionLine}
            """);

        var error = Assert.Single(result.Errors);
        Assert.True(result.Document is null, because);
        Assert.Contains(message, error.Message);
        Assert.Equal((line, column), (error.Line, error.Column));
    }

    [Theory]
    [InlineData("unknown action", "    action: explode", 4, 13, "Unknown action 'explode'; expected one of allow, block, route, redact, require_approval, sample")]
    [InlineData("route without tier", "    action: route", 4, 13, "Action 'route' needs 'tier:'")]
    [InlineData("sample without tier", "    action: sample\n    share: 0.5", 4, 13, "Action 'sample' needs 'tier:'")]
    [InlineData("sample without share", "    action: sample\n    tier: local", 4, 13, "Action 'sample' needs 'share:'")]
    [InlineData("share above one", "    action: sample\n    tier: local\n    share: 1.5", 6, 12, "share must be greater than 0 and at most 1")]
    [InlineData("share zero", "    action: sample\n    tier: local\n    share: 0", 6, 12, "share must be greater than 0 and at most 1")]
    [InlineData("share not a number", "    action: sample\n    tier: local\n    share: half", 6, 12, "share must be a number in (0, 1], got 'half'")]
    [InlineData("tier on block", "    action: block\n    tier: local", 5, 11, "'tier' applies only to the route and sample actions")]
    [InlineData("share on route", "    action: route\n    tier: local\n    share: 0.5", 6, 12, "'share' applies only to the sample action")]
    [InlineData("unknown policy key", "    action: block\n    when: always", 5, 5, "Unknown policy key 'when'")]
    [InlineData("action not text", "    action: [block]", 4, 13, "'action' must be a non-empty text value")]
    [InlineData("condition not a list", "    action: block\n    condition: always", 5, 16, "'condition' must be a list")]
    public void Semantic_errors_in_actions_name_the_line_and_column(string because, string policyLines, int line, int column, string message)
    {
        var result = PolicyParser.Parse($"""
            policies:
              - id: p1
                description: d
            {policyLines}
            """);

        var error = Assert.Single(result.Errors);
        Assert.True(result.Document is null, because);
        Assert.Contains(message, error.Message);
        Assert.Equal((line, column), (error.Line, error.Column));
    }

    [Fact]
    public void A_policy_without_an_action_is_refused_at_the_policy()
    {
        var result = PolicyParser.Parse("policies:\n  - id: p1\n    description: no action\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal((2, 5), (error.Line, error.Column));
        Assert.Contains("has no 'action'", error.Message);
    }

    [Fact]
    public void A_policy_without_an_id_is_refused()
    {
        var result = PolicyParser.Parse("policies:\n  - description: anonymous\n    action: allow\n");

        Assert.Contains(result.Errors, e => e.Message == "The policy has no 'id'." && e.Line == 2 && e.Column == 5);
    }

    [Fact]
    public void A_duplicate_policy_id_is_refused_at_the_second_id()
    {
        var result = PolicyParser.Parse("""
            policies:
              - id: same
                action: allow
              - id: same
                action: block
            """);

        var error = Assert.Single(result.Errors);
        Assert.Equal((4, 9), (error.Line, error.Column));
        Assert.Contains("Duplicate policy id 'same'", error.Message);
    }

    [Theory]
    [InlineData("unknown top-level key", "rules: []", 1, 1, "Unknown top-level key 'rules'")]
    [InlineData("policies not a list", "policies: block", 1, 11, "'policies' must be a list")]
    [InlineData("quota not a number", "quotas:\n  default:\n    tokens_per_day: lots", 3, 21, "quotas.default.tokens_per_day must be a whole number ≥ 0")]
    [InlineData("negative quota", "quotas:\n  default:\n    requests_per_minute: -1", 3, 26, "quotas.default.requests_per_minute must be a whole number ≥ 0")]
    [InlineData("fractional quota", "quotas:\n  default:\n    requests_per_minute: 1.5", 3, 26, "must be a whole number")]
    [InlineData("unknown quota key", "quotas:\n  default:\n    calls_per_hour: 5", 3, 5, "Unknown key 'calls_per_hour' in quotas.default")]
    [InlineData("unknown quotas section", "quotas:\n  teams: {}", 2, 3, "Unknown quotas key 'teams'")]
    [InlineData("bad app id", "quotas:\n  apps:\n    Not_An_App:\n      tokens_per_day: 5", 3, 5, "'Not_An_App' is not a valid app id")]
    [InlineData("scalar document", "just text", 1, 1, "The document must be a map")]
    [InlineData("bad policy id", "policies:\n  - id: 'has spaces'\n    action: allow", 2, 9, "Policy id 'has spaces' must be")]
    public void Document_level_errors_name_the_line_and_column(string because, string yaml, int line, int column, string message)
    {
        var result = PolicyParser.Parse(yaml);

        var error = Assert.Single(result.Errors);
        Assert.True(result.Document is null, because);
        Assert.Contains(message, error.Message);
        Assert.Equal((line, column), (error.Line, error.Column));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n  ")]
    [InlineData("# only a comment\n")]
    public void An_empty_document_is_refused(string yaml)
    {
        var error = Assert.Single(PolicyParser.Parse(yaml).Errors);
        Assert.Contains("The document is empty", error.Message);
        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void A_duplicate_yaml_key_is_refused()
    {
        var result = PolicyParser.Parse("policies: []\npolicies: []\n");

        var error = Assert.Single(result.Errors);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Every_error_of_a_document_is_reported_not_only_the_first()
    {
        var result = PolicyParser.Parse("""
            policies:
              - id: one
                condition:
                  - app.colour: red
                action: explode
              - id: two
                action: route
            """);

        Assert.Equal([(4, 9), (5, 13), (7, 13)], result.Errors.Select(e => (e.Line, e.Column)));
    }

    [Fact]
    public void Route_to_a_tier_that_is_not_configured_is_refused_when_tiers_are_known()
    {
        var yaml = "policies:\n  - id: r\n    action: route\n    tier: onprem\n";

        var error = Assert.Single(PolicyParser.Parse(yaml, ["local", "standard"]).Errors);
        Assert.Equal((4, 11), (error.Line, error.Column));
        Assert.Contains("Unknown tier 'onprem'; configured tiers: local, standard", error.Message);
        Assert.True(PolicyParser.Parse(yaml).IsValid);
    }

    [Fact]
    public void A_second_yaml_document_is_refused()
    {
        var error = Assert.Single(PolicyParser.Parse("policies: []\n---\npolicies: []\n").Errors);
        Assert.Contains("exactly one YAML document", error.Message);
        Assert.Equal(3, error.Line);
    }
}
