using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Governance;
using MicroApps.Orleans.Policies;
using static MicroApps.Orleans.UnitTests.Governance.GateTestData;

namespace MicroApps.Orleans.UnitTests.Governance;

public sealed class PolicyGateTests
{
    private static PolicyDecision Decision(bool requiresApproval, params PolicyMatch[] matches) =>
        new(7, false, null, null, false, requiresApproval, matches, "");

    [Fact]
    public void No_approval_policy_passes_without_an_approver()
    {
        var (result, needsApprover) = PolicyGate.Evaluate(Decision(false), null, At);

        Assert.True(result.Passed);
        Assert.False(needsApprover);
        Assert.Contains("no policy requires approval", result.Detail);
        Assert.Contains("policy set v7", result.Detail);
    }

    [Fact]
    public void A_require_approval_match_passes_but_needs_an_approver_and_names_the_policy()
    {
        var match = new PolicyMatch("pii_apps_need_review", "PII apps are reviewed", PolicyAction.RequireApproval, "app.data_contains ∋ ssn", null, true);

        var (result, needsApprover) = PolicyGate.Evaluate(Decision(true, match), null, At);

        Assert.True(result.Passed);
        Assert.True(needsApprover);
        Assert.Contains("approval required by policy 'pii_apps_need_review' (app.data_contains ∋ ssn)", result.Detail);
    }

    [Fact]
    public void A_policy_set_that_cannot_be_evaluated_requires_an_approver()
    {
        var (result, needsApprover) = PolicyGate.Evaluate(null, "silo unavailable", At);

        Assert.True(result.Passed);
        Assert.True(needsApprover);
        Assert.Contains("could not be evaluated (silo unavailable)", result.Detail);
    }

    [Fact]
    public void Facts_carry_the_app_and_no_request()
    {
        var manifest = Manifest(Audience.External, dataClasses: ["email"], prompts: [new PromptPin("summary", 3), new PromptPin("tone", 1)]);

        var facts = PolicyGate.FactsOf("invoice-helper", manifest);

        Assert.Equal("invoice-helper", facts.AppId);
        Assert.Equal("external", facts.Audience);
        Assert.Equal(["email"], facts.DeclaredDataClasses);
        Assert.Equal("summary@3,tone@1", facts.PromptVersion);
        Assert.Null(facts.RequestPii);
        Assert.Null(facts.ModelTier);
        Assert.Null(facts.CostEstimateUsd);
    }
}
