namespace MicroApps.Orleans.Policies;

/// <summary>The kinds of value a fact holds; each kind takes its own condition form.</summary>
internal enum FactKind
{
    /// <summary>A set of names; a condition lists names and matches when any is in the set.</summary>
    Set,

    /// <summary>One name; a condition lists names and matches when the fact is one of them.</summary>
    Text,

    /// <summary>true or false.</summary>
    Bool,

    /// <summary>A number, tested with comparisons.</summary>
    Number,
}

internal sealed record FactDefinition(
    string Name,
    FactKind Kind,
    string Meaning,
    Func<PolicyFacts, IReadOnlyList<string>?>? Names = null,
    Func<PolicyFacts, bool?>? Flag = null,
    Func<PolicyFacts, decimal?>? Number = null,
    IReadOnlyList<string>? AllowedValues = null);

/// <summary>Every fact a condition may test, by name.</summary>
internal static class PolicyFactCatalog
{
    public static IReadOnlyDictionary<string, FactDefinition> Facts { get; } = new FactDefinition[]
    {
        new("app.data_contains", FactKind.Set, "data classes the app declares plus the PII classes found in this request",
            Names: f => f.RequestPii is { Count: > 0 } found ? f.DeclaredDataClasses.Union(found, StringComparer.OrdinalIgnoreCase).ToArray() : f.DeclaredDataClasses),
        new("app.audience", FactKind.Text, "internal or external", Names: f => One(f.Audience), AllowedValues: ["internal", "external"]),
        new("app.id", FactKind.Text, "the app id", Names: f => One(f.AppId)),
        new("app.team", FactKind.Text, "the owning team", Names: f => One(f.Team)),
        new("model.tier", FactKind.Text, "the tier the request resolves to", Names: f => One(f.ModelTier)),
        new("model.external", FactKind.Bool, "true when any candidate model of the tier runs outside the organisation", Flag: f => f.ModelExternal),
        new("request.pii", FactKind.Set, "PII classes found in this request (true/false: whether any was found)", Names: f => f.RequestPii),
        new("request.tokens_estimate", FactKind.Number, "input tokens plus reserved output tokens", Number: f => f.TokensEstimate),
        new("request.cost_estimate_usd", FactKind.Number, "estimated cost at the highest-priced candidate", Number: f => f.CostEstimateUsd),
        new("prompt.version", FactKind.Text, "the app's prompt version", Names: f => One(f.PromptVersion)),
    }.ToDictionary(f => f.Name, StringComparer.Ordinal);

    public static string Names { get; } = string.Join(", ", Facts.Keys);

    private static string[]? One(string? value) => value is null ? null : [value];
}
