using Microsoft.Extensions.Options;
using MicroApps.Orleans.Catalog;
using static MicroApps.Orleans.UnitTests.Catalog.CatalogTestData;

namespace MicroApps.Orleans.UnitTests.Catalog;

public sealed class CatalogComponentsTests
{
    [Fact]
    public void Placeholders_are_distinct_names_in_order_of_first_use_with_spaces_allowed()
    {
        var (names, problems) = CatalogComponents.Placeholders("Hello {{ audience }}, in {{tone}} for {{audience}}.");

        Assert.Equal(["audience", "tone"], names);
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("Hi {{}}", "is not a placeholder")]
    [InlineData("Hi {{1st}}", "is not a placeholder")]
    [InlineData("Hi {{two words}}", "is not a placeholder")]
    [InlineData("Hi {{name", "never closed")]
    public void Malformed_placeholders_are_named(string text, string expected)
    {
        Assert.Contains(CatalogComponents.Placeholders(text).Problems, p => p.Contains(expected));
    }

    [Fact]
    public void A_prompt_takes_one_required_text_parameter_per_placeholder()
    {
        var parameters = CatalogComponents.ParametersOf("{{a}} and {{b}}", []);

        Assert.Equal(["a", "b"], parameters.Select(p => p.Name));
        Assert.All(parameters, p => Assert.True(p.Required && p.Kind == ParameterKind.Text));
    }

    [Fact]
    public void A_valid_prompt_has_no_errors_and_bad_fields_are_named()
    {
        Assert.Empty(CatalogComponents.Validate(Prompt("brand-voice", "1.0.0", text: "Write for {{audience}}.")));

        var bad = Prompt("Brand Voice", "1.0", text: "Hi {{ }}") with { Owner = "", Tags = ["Not A Tag"] };
        var fields = CatalogComponents.Validate(bad).Select(e => e.Field).ToHashSet();

        Assert.Equal(new HashSet<string> { "name", "version", "owner", "tags[0]", "text" }, fields);
    }

    [Fact]
    public void Only_a_patch_version_can_be_marked_safe()
    {
        Assert.Contains(CatalogComponents.Validate(Prompt("voice", "1.1.0", safe: true)), e => e.Field == "safeUpgrade");
        Assert.Empty(CatalogComponents.Validate(Prompt("voice", "1.1.1", safe: true)));
    }

    [Fact]
    public void A_chain_needs_uniquely_named_steps_with_prompts_and_no_text()
    {
        var chain = new CatalogEntry(CatalogKind.Chain, "review", "1.0.0", "team", "Reviews.", [], false, false, [], "",
            [new ChainStep("draft", "Draft for {{audience}}"), new ChainStep("draft", ""), new ChainStep("", "Polish")], At, "approver");

        var errors = CatalogComponents.Validate(chain);

        Assert.Contains(errors, e => e.Field == "steps[1].name" && e.Message.Contains("unique"));
        Assert.Contains(errors, e => e.Field == "steps[1].prompt");
        Assert.Contains(errors, e => e.Field == "steps[2].name");
        Assert.Contains(CatalogComponents.Validate(chain with { Steps = [] }), e => e.Field == "steps");
        Assert.Contains(CatalogComponents.Validate(chain with { Steps = [new ChainStep("a", "b")], Text = "x" }), e => e.Field == "text");
    }

    [Fact]
    public void Retirement_settings_out_of_range_stop_the_host_naming_the_setting()
    {
        var result = new RetirementOptionsValidator().Validate(null, new RetirementOptions { Days = 0, MaxCallsPerDay = -1, MinCostUsd = -1m });

        Assert.True(result.Failed);
        Assert.Contains("Catalog:Retirement:Days", result.FailureMessage);
        Assert.Contains("Catalog:Retirement:MaxCallsPerDay", result.FailureMessage);
        Assert.Contains("Catalog:Retirement:MinCostUsd", result.FailureMessage);
        Assert.Equal(ValidateOptionsResult.Success, new RetirementOptionsValidator().Validate(null, new RetirementOptions()));
    }
}
