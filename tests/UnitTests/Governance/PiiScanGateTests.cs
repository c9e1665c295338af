using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Governance;
using MicroApps.Orleans.Prompts;
using static MicroApps.Orleans.UnitTests.Governance.GateTestData;

namespace MicroApps.Orleans.UnitTests.Governance;

public sealed class PiiScanGateTests
{
    private static PromptVersionInfo Prompt(string name, int version, string text) =>
        new(name, version, text, PromptNames.Hash(text), null, "author-alice", At, "");

    [Fact]
    public void Clean_prompts_and_tests_pass()
    {
        var pin = new PromptPin("summary", 2);
        var manifest = Manifest(prompts: [pin], tests: [Test("t1", "Summarise the quarterly report.", ("contains", "report"))]);

        var result = PiiScanGate.Evaluate(manifest, [(pin, Prompt("summary", 2, "Summarise in one sentence."))], At);

        Assert.True(result.Passed, result.Detail);
        Assert.Equal(GateNames.PiiScan, result.Gate);
    }

    [Fact]
    public void A_prompt_with_any_PII_fails_naming_prompt_and_class_but_not_the_text()
    {
        var pin = new PromptPin("summary", 3);
        var manifest = Manifest(dataClasses: ["email"], prompts: [pin]);

        var result = PiiScanGate.Evaluate(manifest, [(pin, Prompt("summary", 3, "Escalate to jane.doe@example.com when unsure."))], At);

        Assert.False(result.Passed);
        Assert.Contains("prompt summary@3 contains PII (email)", result.Detail);
        Assert.DoesNotContain("jane.doe", result.Detail);
    }

    [Fact]
    public void A_pin_missing_from_the_registry_fails()
    {
        var pin = new PromptPin("summary", 9);

        var result = PiiScanGate.Evaluate(Manifest(prompts: [pin]), [(pin, null)], At);

        Assert.False(result.Passed);
        Assert.Contains("prompt summary@9 is not in the prompt registry", result.Detail);
    }

    [Fact]
    public void A_test_input_may_hold_only_declared_PII()
    {
        var declared = Manifest(dataClasses: ["email"], tests: [Test("lookup", "Find bob@example.com", ("contains", "bob"))]);
        var undeclared = Manifest(dataClasses: [], tests: [Test("lookup", "Find bob@example.com", ("contains", "bob"))]);

        var allowed = PiiScanGate.Evaluate(declared, [], At);
        var refused = PiiScanGate.Evaluate(undeclared, [], At);

        Assert.True(allowed.Passed, allowed.Detail);
        Assert.False(refused.Passed);
        Assert.Contains("test 'lookup' input contains PII the app does not declare (email)", refused.Detail);
        Assert.DoesNotContain("bob@example.com", refused.Detail);
    }

    [Fact]
    public void Assertion_values_are_fixtures_too()
    {
        var manifest = Manifest(tests: [Test("t", "Who wrote it?", ("contains", "ann@example.org"))]);

        var result = PiiScanGate.Evaluate(manifest, [], At);

        Assert.False(result.Passed);
        Assert.Contains("test 't' assertion 1 (contains) contains PII the app does not declare (email)", result.Detail);
    }

    [Fact]
    public void Repeated_findings_are_counted()
    {
        var pin = new PromptPin("contacts", 1);

        var result = PiiScanGate.Evaluate(Manifest(prompts: [pin]), [(pin, Prompt("contacts", 1, "a@example.com or b@example.com"))], At);

        Assert.Contains("email ×2", result.Detail);
    }
}
