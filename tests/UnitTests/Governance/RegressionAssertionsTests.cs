using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Governance;

namespace MicroApps.Orleans.UnitTests.Governance;

public sealed class RegressionAssertionsTests
{
    private static readonly TokenUsage Usage = new(120, 300);

    private static AssertionResult Check(string kind, string value, string output, TokenUsage? usage = null, decimal cost = 0.001m) =>
        RegressionAssertions.Check(new RegressionAssertion(kind, value), output, usage ?? Usage, cost);

    private const string PersonSchema = """
        {"type":"object","required":["name","age"],"properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}}}
        """;

    [Fact]
    public void Contains_passes_case_insensitively_and_says_what_it_saw()
    {
        var result = Check("contains", "refund", "We will issue a REFUND today.");
        Assert.True(result.Passed);
        Assert.Equal("output contains 'refund'", result.Detail);
    }

    [Fact]
    public void Contains_fails_when_the_text_is_absent()
    {
        var result = Check("contains", "refund", "We will issue a credit note.");
        Assert.False(result.Passed);
        Assert.Equal("output does not contain 'refund'", result.Detail);
    }

    [Fact]
    public void Not_contains_passes_when_absent_and_fails_when_present_in_any_case()
    {
        Assert.True(Check("not_contains", "password", "Your account is ready.").Passed);
        var failed = Check("not_contains", "password", "Your PASSWORD is hunter2");
        Assert.False(failed.Passed);
        Assert.Equal("output contains 'password'", failed.Detail);
    }

    [Fact]
    public void Regex_passes_on_a_match_and_fails_without_one()
    {
        var passed = Check("regex", @"order #\d{5}", "Your order #48213 has shipped.");
        Assert.True(passed.Passed);
        Assert.Contains("order #48213", passed.Detail);

        var failed = Check("regex", @"order #\d{5}", "Your order has shipped.");
        Assert.False(failed.Passed);
        Assert.Equal(@"output does not match /order #\d{5}/", failed.Detail);
    }

    [Fact]
    public void Regex_that_times_out_is_a_failed_assertion_not_an_exception()
    {
        // Catastrophic backtracking: (a+)+$ against many a's followed by a character that cannot match.
        var result = Check("regex", "^(a+)+$", new string('a', 5000) + "!");
        Assert.False(result.Passed);
        Assert.Contains("timed out after 1 s", result.Detail);
    }

    [Fact]
    public void Json_schema_passes_on_valid_json_inside_a_markdown_fence()
    {
        var result = Check("json_schema", PersonSchema, "```json\n{\"name\":\"Ann\",\"age\":41}\n```\n");
        Assert.True(result.Passed, result.Detail);
    }

    [Fact]
    public void Json_schema_fails_when_json_does_not_match_and_names_where()
    {
        var result = Check("json_schema", PersonSchema, "{\"name\":\"Ann\",\"age\":-3}");
        Assert.False(result.Passed);
        Assert.Contains("/age", result.Detail);
    }

    [Fact]
    public void Json_schema_fails_when_a_required_property_is_missing()
    {
        var result = Check("json_schema", PersonSchema, "{\"name\":\"Ann\"}");
        Assert.False(result.Passed);
        Assert.Contains("does not match the schema", result.Detail);
    }

    [Fact]
    public void Json_schema_fails_when_the_output_is_not_json()
    {
        var result = Check("json_schema", PersonSchema, "Sure! Here is the person: Ann, 41.");
        Assert.False(result.Passed);
        Assert.StartsWith("output is not JSON", result.Detail);
    }

    [Fact]
    public void Max_tokens_compares_output_tokens()
    {
        var passed = Check("max_tokens", "500", "ok", new TokenUsage(2000, 500));
        Assert.True(passed.Passed);
        Assert.Equal("used 500 tokens <= max 500", passed.Detail);

        var failed = Check("max_tokens", "500", "ok", new TokenUsage(10, 812));
        Assert.False(failed.Passed);
        Assert.Equal("used 812 tokens > max 500", failed.Detail);
    }

    [Fact]
    public void Max_cost_usd_compares_the_call_cost()
    {
        var passed = Check("max_cost_usd", "0.002", "ok", cost: 0.0015m);
        Assert.True(passed.Passed);
        Assert.Equal("cost $0.0015 <= max $0.002", passed.Detail);

        var failed = Check("max_cost_usd", "0.002", "ok", cost: 0.0031m);
        Assert.False(failed.Passed);
        Assert.Equal("cost $0.0031 > max $0.002", failed.Detail);
    }

    [Theory]
    [InlineData("contains", "refund")]
    [InlineData("not_contains", "password")]
    [InlineData("regex", @"^\d+$")]
    [InlineData("json_schema", PersonSchema)]
    [InlineData("json_schema", "true")]
    [InlineData("max_tokens", "500")]
    [InlineData("max_cost_usd", "0")]
    [InlineData("max_cost_usd", "0.25")]
    public void Validate_accepts_usable_assertions(string kind, string value) =>
        Assert.Null(RegressionAssertions.Validate(new RegressionAssertion(kind, value)));

    [Fact]
    public void Validate_names_an_unknown_kind_and_lists_the_kinds()
    {
        var error = RegressionAssertions.Validate(new RegressionAssertion("startswith", "x"));
        Assert.Equal("unknown assertion kind 'startswith': kind must be one of contains, not_contains, regex, json_schema, max_tokens, max_cost_usd", error);
    }

    [Fact]
    public void Validate_names_a_regex_that_does_not_compile_with_the_reason()
    {
        var error = RegressionAssertions.Validate(new RegressionAssertion("regex", "order (#\\d+"));
        Assert.NotNull(error);
        Assert.StartsWith("regex 'order (#\\d+' does not compile: ", error);
        Assert.Contains("Not enough )'s", error);
    }

    [Theory]
    [InlineData("{\"type\": \"strin\"}", "/type")]
    [InlineData("{\"minLength\": -1}", "/minLength")]
    [InlineData("{\"type\": ", "not JSON")]
    [InlineData("[1, 2]", "not array")]
    [InlineData("", "empty")]
    public void Validate_names_a_json_schema_that_is_not_a_valid_schema(string schema, string expected)
    {
        var error = RegressionAssertions.Validate(new RegressionAssertion("json_schema", schema));
        Assert.NotNull(error);
        Assert.StartsWith("json_schema is not a valid JSON schema: ", error);
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1.5")]
    [InlineData("lots")]
    [InlineData("")]
    public void Validate_names_max_tokens_that_is_not_a_positive_integer(string value) =>
        Assert.Equal($"max_tokens must be a positive integer, got '{value}'", RegressionAssertions.Validate(new RegressionAssertion("max_tokens", value)));

    [Theory]
    [InlineData("-0.01")]
    [InlineData("1,5")]
    [InlineData("cheap")]
    [InlineData("")]
    public void Validate_names_max_cost_usd_that_is_not_a_non_negative_decimal(string value) =>
        Assert.Equal($"max_cost_usd must be a non-negative decimal (e.g. 0.002), got '{value}'", RegressionAssertions.Validate(new RegressionAssertion("max_cost_usd", value)));

    [Theory]
    [InlineData("contains")]
    [InlineData("not_contains")]
    public void Validate_refuses_empty_contains_text(string kind) =>
        Assert.Equal($"{kind} needs a non-empty text to look for", RegressionAssertions.Validate(new RegressionAssertion(kind, "")));

    [Fact]
    public void Check_refuses_an_invalid_assertion_with_the_validation_message()
    {
        var error = Assert.Throws<ArgumentException>(() => Check("max_tokens", "many", "ok"));
        Assert.StartsWith("max_tokens must be a positive integer", error.Message);
    }

    [Fact]
    public void Json_schema_with_an_id_can_be_checked_repeatedly()
    {
        const string schema = """{"$id":"https://example.com/answer","type":"object","required":["ok"]}""";
        Assert.True(Check("json_schema", schema, "{\"ok\":true}").Passed);
        Assert.False(Check("json_schema", schema, "{\"nope\":1}").Passed);
    }
}
