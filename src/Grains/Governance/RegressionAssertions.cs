using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Governance;

/// <summary>The outcome of one regression assertion: whether it held and, either way, what was seen.</summary>
public sealed record AssertionResult(bool Passed, string Detail);

/// <summary>
/// Checks prompt regression assertions (<c>contains</c>, <c>not_contains</c>, <c>regex</c>, <c>json_schema</c>,
/// <c>max_tokens</c>, <c>max_cost_usd</c>) against a model's answer.
/// </summary>
public static class RegressionAssertions
{
    public static IReadOnlyList<string> Kinds { get; } = ["contains", "not_contains", "regex", "json_schema", "max_tokens", "max_cost_usd"];

    /// <summary>What is wrong with an assertion (unknown kind, bad regex or schema, not a number), or null when it is usable.</summary>
    public static string? Validate(RegressionAssertion assertion) =>
        Kinds.Contains(assertion.Kind) ? null : $"kind must be one of {string.Join(", ", Kinds)}";

    /// <summary>Checks one assertion against an answer, its usage and its cost.</summary>
    public static AssertionResult Check(RegressionAssertion assertion, string output, TokenUsage usage, decimal costUsd) =>
        throw new NotSupportedException("regression assertions are not built yet");
}
