using MicroApps.Orleans.Cli;
using MicroApps.Orleans.Cli.Commands;

namespace MicroApps.Orleans.FrontDoorTests.Cli;

/// <summary>The assertions `microapps test` checks on its side, with the platform's semantics; and its argument rewriting.</summary>
public sealed class CliAssertionCheckTests
{
    [Theory]
    [InlineData("contains", "INVOICE", true)]
    [InlineData("contains", "refund", false)]
    [InlineData("not_contains", "refund", true)]
    [InlineData("not_contains", "Invoice", false)]
    [InlineData("regex", "back(log|order)", true)]
    [InlineData("regex", "^March", false)]
    [InlineData("max_tokens", "12", true)]
    [InlineData("max_tokens", "11", false)]
    [InlineData("max_cost_usd", "0.002", true)]
    [InlineData("max_cost_usd", "0.0019", false)]
    public void Assertions_are_checked_like_the_promotion_gate(string kind, string value, bool passes)
    {
        var check = Assertions.Check(kind, value, "The invoice backlog grew in March.", outputTokens: 12, costUsd: 0.002m);

        Assert.Equal(passes, check.Passed);
    }

    [Fact]
    public void Json_schema_is_reported_as_not_checked_rather_than_passed()
    {
        var check = Assertions.Check("json_schema", "{\"type\":\"object\"}", "{}", 1, 0m);

        Assert.Null(check.Passed);
        Assert.Contains("not checked", check.Detail);
    }

    [Theory]
    [InlineData("regex", "(")]
    [InlineData("max_tokens", "many")]
    [InlineData("max_cost_usd", "cheap")]
    [InlineData("sounds_nice", "x")]
    public void A_malformed_or_unknown_assertion_fails_and_says_why(string kind, string value)
    {
        var check = Assertions.Check(kind, value, "text", 1, 0m);

        Assert.False(check.Passed);
        Assert.NotEmpty(check.Detail);
    }

    [Fact]
    public void Global_options_before_the_command_move_after_it_and_a_lone_dash_becomes_a_value()
    {
        Assert.Equal(
            ["apps", "list", "--url", "http://x", "--json"],
            MicroAppsCli.GlobalOptionsLast(["--url", "http://x", "--json", "apps", "list"]));
        Assert.Equal(["new", "--out=-", "--force"], MicroAppsCli.DashValues(["new", "--out", "-", "--force"]));
        Assert.Equal(["test", "app", "--input", "- a dash"], MicroAppsCli.GlobalOptionsLast(["test", "app", "--input", "- a dash"]));
    }
}
