using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.GrainTests.Gateway;

namespace MicroApps.Orleans.GrainTests.Runtime;

/// <summary>The regression gate of a template app runs each test input through the template, under the gate key.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RuntimeGateTests(ClusterFixture fixture)
{
    private const string Author = "author-alice";

    [Fact]
    public async Task The_regression_gate_of_a_template_app_runs_the_input_through_the_template()
    {
        var appId = $"rg-{Guid.NewGuid():N}"[..20];
        var input = $"gate through the template {Guid.NewGuid():N}";
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateDraftAsync(new AppManifest(
            "Gate app", Author, "finance", Audience.Internal, [], ["standard"], "standard", new AppQuotas(30, 100_000), "", "v1",
            Tests: [new RegressionTestCase("replies", input, [new RegressionAssertion("contains", "gate through the template")], "")],
            ExpectedCallsPerMonth: 100,
            Template: new CatalogRef(BuiltIns.ChatAssistant, "1.0.0"),
            Parameters: new Dictionary<string, string> { ["systemPrompt"] = "Answer in one line.", ["tier"] = "standard", ["maxOutputTokens"] = "24" }), Author);
        await fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}").ConfigureAsync(new BudgetSettings(50m, BudgetPeriod.Month));

        var result = await fixture.Grains.GetGrain<IPromotionGrain>(appId).SubmitAsync(1, Author);

        var run = Assert.Single(result.Tests);
        Assert.True(run.Passed, run.Error ?? string.Join("; ", run.Assertions.Select(a => a.Detail)));
        Assert.Equal(1, PipelineTestSetup.Fake.CallsTo(input));

        // The template's answer cap reached the model: a plain chat call of the old gate path sets none.
        Assert.Equal(24, PipelineTestSetup.Fake.OptionsByPrompt[input]?.MaxOutputTokens);
    }
}
