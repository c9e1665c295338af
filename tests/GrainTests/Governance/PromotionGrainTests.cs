using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.GrainTests.Gateway;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.GrainTests.Governance;

/// <summary>
/// Full submissions on the test cluster: the <c>standard</c> tier is the fake backend, which answers
/// <c>echo: {last user message}</c> with 40 input and 10 output tokens (fake-small: $1/$2 per 1k, so $0.06 a call).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PromotionGrainTests(ClusterFixture fixture)
{
    private const string Author = "author-alice";
    private const decimal CostPerCall = 0.06m;

    private static string NewAppId() => $"pr-{Guid.NewGuid():N}"[..20];

    private static AppManifest Manifest(
        Audience audience = Audience.Internal,
        RegressionTestCase[]? tests = null,
        PromptPin[]? prompts = null,
        long expectedCallsPerMonth = 100,
        string[]? dataClasses = null) => new(
        "Promotion app", Author, "finance", audience, dataClasses ?? [], ["standard"], "standard", new AppQuotas(30, 100_000), "", "v1",
        prompts, tests, null, null, expectedCallsPerMonth);

    private static RegressionTestCase Test(string name, string input, params (string Kind, string Value)[] assertions) =>
        new(name, input, assertions.Select(a => new RegressionAssertion(a.Kind, a.Value)).ToList(), "fake-small");

    private async Task<(string AppId, IMicroAppGrain App)> DraftAsync(AppManifest manifest, decimal monthlyBudget = 50m)
    {
        var appId = NewAppId();
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateDraftAsync(manifest, Author);
        await fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}").ConfigureAsync(new BudgetSettings(monthlyBudget, BudgetPeriod.Month));
        return (appId, app);
    }

    private async Task<PromptPin> PublishPromptAsync(string text)
    {
        var name = $"pp-{Guid.NewGuid():N}"[..16];
        var version = await fixture.Grains.GetGrain<IPromptGrain>(name).PublishVersionAsync(text, Author, "", null);
        return new PromptPin(version.Name, version.Version);
    }

    private IPromotionGrain Promotion(string appId) => fixture.Grains.GetGrain<IPromotionGrain>(appId);

    [Fact]
    public async Task An_internal_app_whose_gates_pass_is_approved_automatically()
    {
        var pin = await PublishPromptAsync("Repeat the user's words.");
        var (appId, app) = await DraftAsync(Manifest(tests: [Test("echoes", "ship it", ("contains", "ship it"), ("max_tokens", "10"), ("max_cost_usd", "0.1"))], prompts: [pin]));

        var result = await Promotion(appId).SubmitAsync(1, Author);

        Assert.Equal(SubmissionOutcome.AutoApproved, result.Outcome);
        Assert.Equal(VersionState.Approved, result.Version.State);
        Assert.Equal(GateNames.InOrder, result.Gates.Select(g => g.Gate));
        Assert.All(result.Gates, g => Assert.True(g.Passed, $"{g.Gate}: {g.Detail}"));
        Assert.Contains($"mean ${CostPerCall}/call over 1 test call(s) × 100 expected calls/month = $6/month", result.Gates.Single(g => g.Gate == GateNames.CostEstimate).Detail);
        var run = Assert.Single(result.Tests);
        Assert.True(run.Passed);
        Assert.Equal("fake-small", run.Model);
        Assert.Equal(CostPerCall, run.CostUsd);

        var stored = await app.GetVersionAsync(1);
        Assert.Equal(result.Gates, stored!.Gates);
        Assert.True(stored.Approval!.Automatic);

        // The gate key served the run and was revoked after it.
        var info = await app.GetAsync();
        var gateKey = Assert.Single(info!.Keys, k => k.Kind == KeyKind.Gate);
        Assert.NotNull(gateKey.RevokedAt);
    }

    [Fact]
    public async Task The_test_call_carries_the_pinned_prompts_as_system_messages()
    {
        var pin = await PublishPromptAsync("You are terse.");
        var input = $"check the prompt {Guid.NewGuid():N}";
        var (appId, _) = await DraftAsync(Manifest(tests: [Test("prompted", input, ("contains", "check the prompt"))], prompts: [pin]));

        await Promotion(appId).SubmitAsync(1, Author);

        Assert.Equal(1, PipelineTestSetup.Fake.CallsTo(input));
    }

    [Fact]
    public async Task An_external_app_whose_gates_pass_waits_for_an_approver()
    {
        var (appId, app) = await DraftAsync(Manifest(Audience.External, tests: [Test("echoes", "hello world", ("contains", "hello"))]));

        var result = await Promotion(appId).SubmitAsync(1, Author);

        Assert.Equal(SubmissionOutcome.AwaitingApproval, result.Outcome);
        Assert.Equal(VersionState.Submitted, result.Version.State);
        Assert.True(result.Version.NeedsApprover);
        var pending = Assert.Single(await fixture.Grains.GetGrain<IApprovalQueueGrain>(0).ListAsync(), p => p.AppId == appId);
        Assert.Equal(5, pending.Gates.Count);

        var approved = await app.DecideAsync(1, "approver-bob", approve: true, "reviewed the gates");
        Assert.Equal(VersionState.Approved, approved.State);
    }

    [Fact]
    public async Task An_internal_app_a_policy_flags_waits_for_an_approver_and_the_gate_names_the_policy()
    {
        var (appId, _) = await DraftAsync(Manifest(tests: [Test("echoes", "hello policy", ("contains", "hello"))]));

        // The policy set is shared by the cluster: the document applies to this test's app only.
        var published = await fixture.Grains.GetGrain<IPolicySetGrain>("default").PublishAsync($$"""
            policies:
              - id: review-{{appId}}
                description: this app is reviewed by a person
                condition:
                  - app.id: {{appId}}
                action: require_approval
            """, "tester", "promotion test");
        Assert.True(published.Accepted, string.Join("; ", published.Errors.Select(e => e.Message)));

        var result = await Promotion(appId).SubmitAsync(1, Author);

        Assert.Equal(SubmissionOutcome.AwaitingApproval, result.Outcome);
        Assert.True(result.NeedsApprover);
        var policy = result.Gates.Single(g => g.Gate == GateNames.Policy);
        Assert.True(policy.Passed);
        Assert.Contains($"approval required by policy 'review-{appId}'", policy.Detail);
    }

    [Fact]
    public async Task A_failing_regression_test_returns_the_version_to_draft_with_the_reason()
    {
        var (appId, app) = await DraftAsync(Manifest(tests:
        [
            Test("echoes", "hello world", ("contains", "hello")),
            Test("formal", "hello world", ("not_contains", "hello")),
        ]));

        var result = await Promotion(appId).SubmitAsync(1, Author);

        Assert.Equal(SubmissionOutcome.ReturnedToDraft, result.Outcome);
        Assert.Equal(VersionState.Draft, result.Version.State);
        var regression = Assert.Single(result.FailedGates);
        Assert.Equal(GateNames.RegressionTests, regression.Gate);
        Assert.Contains("1 of 2 test(s) failed: test 'formal': assertion 1 not_contains \"hello\" failed", regression.Detail);
        Assert.Contains("gates failed: regression_tests", result.Version.History[^1].Reason);
        Assert.DoesNotContain(await fixture.Grains.GetGrain<IApprovalQueueGrain>(0).ListAsync(), p => p.AppId == appId);
        Assert.Equal(VersionState.Draft, (await app.GetVersionAsync(1))!.State);
    }

    [Fact]
    public async Task A_resubmission_runs_the_tests_again_under_new_request_ids()
    {
        var (appId, app) = await DraftAsync(Manifest(tests: [Test("formal", "hello again", ("not_contains", "hello"))]));
        var first = await Promotion(appId).SubmitAsync(1, Author);
        Assert.Equal(SubmissionOutcome.ReturnedToDraft, first.Outcome);

        var second = await Promotion(appId).SubmitAsync(1, Author);

        // Had the second run reused the first run's request ids, the budget would refuse them as already settled.
        Assert.Equal(SubmissionOutcome.ReturnedToDraft, second.Outcome);
        var rerun = Assert.Single(second.Tests);
        Assert.Null(rerun.Error);

        // The identical request was answered from the cache (nothing charged again), but the cost estimate
        // still prices it at the model's rates rather than taking the cache's $0.
        var spent = await fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}").GetAsync();
        Assert.Equal(CostPerCall, spent.SpentUsd);
        Assert.True(rerun.CostUsd > 0m, $"re-estimated cost {rerun.CostUsd}");
        Assert.True(rerun.Usage.OutputTokens > 0);
    }

    [Fact]
    public async Task Every_gate_runs_and_reports_even_when_several_fail()
    {
        var missing = new PromptPin($"nope-{Guid.NewGuid():N}"[..16], 4);
        var (appId, _) = await DraftAsync(Manifest(tests: [Test("t", "hi", ("contains", "hi"))], prompts: [missing]));

        var result = await Promotion(appId).SubmitAsync(1, Author);

        Assert.Equal(SubmissionOutcome.ReturnedToDraft, result.Outcome);
        Assert.Equal(GateNames.InOrder, result.Gates.Select(g => g.Gate));
        Assert.Equal([GateNames.PiiScan, GateNames.RegressionTests, GateNames.CostEstimate], result.FailedGates.Select(g => g.Gate));
        Assert.Contains($"prompt {missing} is not in the prompt registry", result.Gates[1].Detail);
        Assert.Contains($"pinned prompt(s) not in the registry: {missing}", result.Gates[2].Detail);
    }

    [Fact]
    public async Task A_version_with_no_tests_is_blocked()
    {
        var (appId, _) = await DraftAsync(Manifest(tests: []));

        var result = await Promotion(appId).SubmitAsync(1, Author);

        Assert.Equal(SubmissionOutcome.ReturnedToDraft, result.Outcome);
        Assert.Equal("no regression tests: a promotion requires at least one", result.Gates.Single(g => g.Gate == GateNames.RegressionTests).Detail);
    }

    [Fact]
    public async Task A_projection_over_the_budget_blocks_the_promotion()
    {
        var (appId, _) = await DraftAsync(Manifest(tests: [Test("echoes", "hello", ("contains", "hello"))], expectedCallsPerMonth: 1_000), monthlyBudget: 10m);

        var result = await Promotion(appId).SubmitAsync(1, Author);

        var cost = Assert.Single(result.FailedGates);
        Assert.Equal(GateNames.CostEstimate, cost.Gate);
        Assert.Contains("= $60/month exceeds budget", cost.Detail);
    }

    [Fact]
    public async Task Submitting_a_version_that_is_not_a_draft_is_refused()
    {
        var (appId, _) = await DraftAsync(Manifest(Audience.External, tests: [Test("echoes", "hello", ("contains", "hello"))]));
        await Promotion(appId).SubmitAsync(1, Author);

        await Assert.ThrowsAsync<InvalidOperationException>(() => Promotion(appId).SubmitAsync(1, Author));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Promotion(appId).SubmitAsync(9, Author));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Promotion(NewAppId()).SubmitAsync(1, Author));
    }
}
