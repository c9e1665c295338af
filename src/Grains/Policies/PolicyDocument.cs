using System.Globalization;
using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.Policies;

/// <summary>A parsed, validated policy document: the policies in document order and the quotas section.</summary>
public sealed record PolicyDocument(IReadOnlyList<PolicyRule> Policies, PolicyQuotaSection Quotas)
{
    public static PolicyDocument Empty { get; } = new([], PolicyQuotaSection.None);
}

/// <summary>One policy: when every condition holds, <see cref="Action"/> applies.</summary>
/// <param name="Tier">Target tier of <c>route</c> and <c>sample</c>.</param>
/// <param name="Share">Share of matching traffic a <c>sample</c> sends to <see cref="Tier"/>, in (0, 1].</param>
public sealed record PolicyRule(
    string Id,
    string Description,
    IReadOnlyList<PolicyCondition> Conditions,
    PolicyAction Action,
    string? Tier,
    double? Share);

/// <summary>
/// The <c>quotas:</c> section. <see cref="Default"/> is a ceiling on every app's own quotas; an entry of
/// <see cref="Apps"/> replaces that app's quotas. 0 means no limit.
/// </summary>
public sealed record PolicyQuotaSection(AppQuotas? Default, IReadOnlyDictionary<string, AppQuotas> Apps)
{
    public static PolicyQuotaSection None { get; } = new(null, new Dictionary<string, AppQuotas>());

    /// <summary>What admission must apply for <paramref name="appId"/>, or null when the section says nothing.</summary>
    public PolicyQuotas? For(string appId) =>
        Apps.TryGetValue(appId, out var own) ? new PolicyQuotas(own, IsAppOverride: true)
        : Default is { } ceiling ? new PolicyQuotas(ceiling, IsAppOverride: false)
        : null;
}

/// <summary>One fact test of a condition. A fact that is not available (null) never matches.</summary>
public abstract class PolicyCondition(string fact)
{
    /// <summary>The fact's name, e.g. <c>model.tier</c>.</summary>
    public string Fact { get; } = fact;

    /// <summary>Why the condition holds (e.g. <c>model.tier = premium</c>), or null when it does not.</summary>
    public abstract string? Explain(PolicyFacts facts);
}

/// <summary>A text or set fact matches when any of its values is one of <see cref="Expected"/> (case-insensitive).</summary>
public sealed class AnyOfCondition(string fact, Func<PolicyFacts, IReadOnlyList<string>?> read, IReadOnlyList<string> expected, bool isSet)
    : PolicyCondition(fact)
{
    public IReadOnlyList<string> Expected { get; } = expected;

    public override string? Explain(PolicyFacts facts)
    {
        var values = read(facts);
        if (values is null)
        {
            return null;
        }

        var hits = Expected.Where(e => values.Contains(e, StringComparer.OrdinalIgnoreCase)).ToArray();
        if (hits.Length == 0)
        {
            return null;
        }

        return isSet ? $"{Fact} ∋ {string.Join(", ", hits)}" : $"{Fact} = {hits[0]}";
    }
}

/// <summary>A boolean fact (<c>model.external</c>, or <c>request.pii: true</c> meaning "some PII was found").</summary>
public sealed class BoolCondition(string fact, Func<PolicyFacts, bool?> read, bool expected) : PolicyCondition(fact)
{
    public bool Expected { get; } = expected;

    public override string? Explain(PolicyFacts facts) =>
        read(facts) is { } value && value == Expected ? $"{Fact} = {(Expected ? "true" : "false")}" : null;
}

/// <summary>Comparison operators of numeric facts.</summary>
public enum ComparisonOperator
{
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// <summary>One comparison, e.g. <c>&gt; 0.05</c>.</summary>
public sealed record Comparison(ComparisonOperator Operator, decimal Value)
{
    public bool Holds(decimal actual) => Operator switch
    {
        ComparisonOperator.Equal => actual == Value,
        ComparisonOperator.NotEqual => actual != Value,
        ComparisonOperator.Greater => actual > Value,
        ComparisonOperator.GreaterOrEqual => actual >= Value,
        ComparisonOperator.Less => actual < Value,
        _ => actual <= Value,
    };

    public string Symbol => Operator switch
    {
        ComparisonOperator.Equal => "==",
        ComparisonOperator.NotEqual => "!=",
        ComparisonOperator.Greater => ">",
        ComparisonOperator.GreaterOrEqual => ">=",
        ComparisonOperator.Less => "<",
        _ => "<=",
    };

    public override string ToString() => $"{Symbol} {Value.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>A numeric fact compared with one or more comparisons, all of which must hold.</summary>
public sealed class NumberCondition(string fact, Func<PolicyFacts, decimal?> read, IReadOnlyList<Comparison> comparisons) : PolicyCondition(fact)
{
    public IReadOnlyList<Comparison> Comparisons { get; } = comparisons;

    public override string? Explain(PolicyFacts facts)
    {
        if (read(facts) is not { } actual || !Comparisons.All(c => c.Holds(actual)))
        {
            return null;
        }

        return $"{Fact} {actual.ToString(CultureInfo.InvariantCulture)} {string.Join(" and ", Comparisons)}";
    }
}
