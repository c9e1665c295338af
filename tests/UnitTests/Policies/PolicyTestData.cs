using MicroApps.Orleans.Policies;

namespace MicroApps.Orleans.UnitTests.Policies;

internal static class PolicyTestData
{
    /// <summary>The policy document exactly as issue 3 gives it.</summary>
    public const string IssueExample = """
        policies:
          - id: prevent_external_llm_for_pii
            description: Block calls to premium external LLMs if app accesses PII
            condition:
              - app.data_contains: [email, ssn, phone]
              - model.tier: premium
            action: block
        quotas:
          default:
            tokens_per_day: 100000
            requests_per_minute: 30
        """;

    public static PolicyFacts Facts(
        string appId = "app-1",
        string team = "team-a",
        string audience = "internal",
        string[]? declared = null,
        string[]? pii = null,
        string? tier = "standard",
        bool? external = true,
        long? tokens = 1000,
        decimal? cost = 0.01m,
        string prompt = "v1",
        string? sticky = "user-1") =>
        new(appId, team, audience, declared ?? [], pii, tier, external, tokens, cost, prompt, sticky);

    public static PolicyDocument Parse(string yaml)
    {
        var result = PolicyParser.Parse(yaml);
        Assert.True(result.IsValid, string.Join("\n", result.Errors.Select(e => $"{e.Line}:{e.Column} {e.Message}")));
        return result.Document!;
    }

    /// <summary>A document with one policy whose condition is <paramref name="condition"/> (one YAML line).</summary>
    public static PolicyDocument OnePolicy(string condition, string action = "block") => Parse($"""
        policies:
          - id: p1
            description: test policy
            condition:
              - {condition}
            action: {action}
        """);
}
