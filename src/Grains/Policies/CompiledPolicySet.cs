using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.Policies;

/// <summary>One version of the policy set, parsed once and evaluated many times.</summary>
public sealed class CompiledPolicySet(int version, PolicyDocument document, string contentHash)
{
    /// <summary>No version published: nothing matches, every call is allowed by default, no policy quotas.</summary>
    public static CompiledPolicySet None { get; } = new(0, PolicyDocument.Empty, "");

    public int Version { get; } = version;

    public PolicyDocument Document { get; } = document;

    public string ContentHash { get; } = contentHash;

    /// <summary>Parses a stored version. Stored versions were validated when published, so a failure here is a defect.</summary>
    public static CompiledPolicySet Compile(PolicySetVersion stored)
    {
        var parsed = PolicyParser.Parse(stored.Yaml);
        if (!parsed.IsValid)
        {
            var first = parsed.Errors[0];
            throw new InvalidOperationException($"Stored policy set version {stored.Version} does not parse (line {first.Line}, column {first.Column}: {first.Message}).");
        }

        return new CompiledPolicySet(stored.Version, parsed.Document!, stored.ContentHash);
    }

    public PolicyDecision Evaluate(PolicyFacts facts) => PolicyEvaluator.Evaluate(Document, Version, facts);

    /// <summary>Quotas admission applies to <paramref name="appId"/>, or null when the set says nothing about them.</summary>
    public PolicyQuotas? QuotasFor(string appId) => Document.Quotas.For(appId);
}
