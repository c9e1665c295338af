using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Governance;

namespace MicroApps.Orleans.UnitTests.Apps;

public sealed class ManifestGovernanceRulesTests
{
    private static AppManifest Valid() => new(
        "Notes", "ada", "finance", Audience.Internal, [], ["local"], "local", new AppQuotas(10, 1000), "", "v1",
        Prompts: [new PromptPin("summarize", 2)],
        Tests: [new RegressionTestCase("short", "Summarize: hello", [new RegressionAssertion("contains", "hello")])],
        Connectors: [new ConnectorRef("crm", "api.crm.example.com", ["email"])],
        EgressAllowlist: ["*.example.com"],
        ExpectedCallsPerMonth: 1000);

    [Fact]
    public void A_manifest_with_every_governance_field_is_valid()
    {
        Assert.Empty(AppManifestRules.Validate("notes", Valid()));
    }

    [Fact]
    public void Bad_governance_fields_are_named_by_their_path()
    {
        var manifest = Valid() with
        {
            Prompts = [new PromptPin("Bad Name", 0), new PromptPin("summarize", 1), new PromptPin("summarize", 2)],
            Tests =
            [
                new RegressionTestCase("a", "x", [new RegressionAssertion("contains", "x")]),
                new RegressionTestCase("a", " ", []),
                new RegressionTestCase("c", "x", [new RegressionAssertion("contains", "x"), new RegressionAssertion("sounds_nice", "")]),
            ],
            Connectors = [new ConnectorRef("", " ", ["email"])],
            EgressAllowlist = ["api.example.com", ""],
            ExpectedCallsPerMonth = -1,
        };

        var errors = AppManifestRules.Validate("notes", manifest);

        Assert.Equal(
            new[]
            {
                "connectors[0].host", "connectors[0].name", "egressAllowlist[1]", "expectedCallsPerMonth",
                "prompts[0].name", "prompts[0].version", "prompts[2].name",
                "tests[1].assertions", "tests[1].input", "tests[1].name", "tests[2].assertions[1].kind",
            },
            errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("pinned more than once", errors["prompts[2].name"]);
        Assert.Contains("contains, not_contains, regex", errors["tests[2].assertions[1].kind"]);
    }

    [Fact]
    public void The_contract_list_of_assertion_kinds_matches_the_checker()
    {
        Assert.Equal(RegressionAssertions.Kinds, AppManifestRules.AssertionKinds);
    }

    [Fact]
    public void Same_manifest_compares_the_governance_lists_by_content()
    {
        Assert.True(AppManifestRules.SameManifest(Valid(), Valid()));
        Assert.False(AppManifestRules.SameManifest(Valid(), Valid() with { Tests = [new RegressionTestCase("short", "Summarize: hello", [new RegressionAssertion("contains", "bye")])] }));
        Assert.False(AppManifestRules.SameManifest(Valid(), Valid() with { EgressAllowlist = [] }));
    }
}
