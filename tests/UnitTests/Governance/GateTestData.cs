using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.UnitTests.Governance;

/// <summary>Manifests for the gate tests: a valid internal app that each test bends one way.</summary>
internal static class GateTestData
{
    public static readonly DateTimeOffset At = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    public static AppManifest Manifest(
        Audience audience = Audience.Internal,
        string[]? dataClasses = null,
        ConnectorRef[]? connectors = null,
        string[]? egress = null,
        RegressionTestCase[]? tests = null,
        PromptPin[]? prompts = null) =>
        new("Gate test", "author-alice", "finance", audience, dataClasses ?? [], ["standard"], "standard", AppQuotas.Default, "", "v1",
            prompts, tests, connectors, egress, 1000);

    public static RegressionTestCase Test(string name, string input, params (string Kind, string Value)[] assertions) =>
        new(name, input, assertions.Select(a => new RegressionAssertion(a.Kind, a.Value)).ToList());
}
