using System.Globalization;
using System.Text;

namespace MicroApps.Orleans.Policies;

/// <summary>
/// Evaluates a policy document against the facts of one request (or of an app, for promotion gates).
/// <para>
/// Conditions of a policy all hold (AND); a list value matches any of its items; a fact that is not available
/// never matches. When several policies match, precedence is block &gt; require_approval &gt; redact &gt; route &gt;
/// sample &gt; allow: the first block in document order overrides everything else; otherwise require_approval and
/// redact apply alongside one tier choice, where the first matching route wins over any sample and, without a
/// route, the first sample whose share selects the sticky key applies. An allow never overrides anything: it is
/// recorded as an explicit allow.
/// </para>
/// </summary>
public static class PolicyEvaluator
{
    /// <summary>Summary of a decision when no policy matched.</summary>
    public const string AllowByDefault = "allow:default";

    public static PolicyDecision Evaluate(PolicyDocument? document, int version, PolicyFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var matched = new List<PolicyMatch>();
        foreach (var rule in document?.Policies ?? [])
        {
            if (Explain(rule, facts) is { } why)
            {
                matched.Add(new PolicyMatch(rule.Id, rule.Description, rule.Action, why, rule.Tier, Applied: false));
            }
        }

        var rules = document?.Policies.ToDictionary(r => r.Id, StringComparer.Ordinal) ?? [];
        var block = matched.FindIndex(m => m.Action == PolicyAction.Block);
        if (block >= 0)
        {
            matched[block] = matched[block] with { Applied = true };
            return new PolicyDecision(version, true, matched[block], null, false, false, matched, $"block:{matched[block].PolicyId}");
        }

        var route = matched.FindIndex(m => m.Action == PolicyAction.Route);
        var sample = -1;
        for (var i = 0; i < matched.Count; i++)
        {
            var match = matched[i];
            switch (match.Action)
            {
                case PolicyAction.RequireApproval or PolicyAction.Redact or PolicyAction.Allow:
                    matched[i] = match with { Applied = true };
                    break;
                case PolicyAction.Route:
                    matched[i] = match with { Applied = i == route };
                    break;
                case PolicyAction.Sample:
                    var share = rules[match.PolicyId].Share ?? 0;
                    var selected = route < 0 && sample < 0 && InSample(facts.StickyKey, match.PolicyId, share);
                    if (selected)
                    {
                        sample = i;
                    }

                    var note = route >= 0 ? "overridden by a route"
                        : selected ? $"selected (share {Share(share)})"
                        : sample >= 0 && sample < i ? "an earlier sample applied"
                        : facts.StickyKey is null ? "no sticky key to sample by"
                        : $"not selected (share {Share(share)})";
                    matched[i] = match with { Applied = selected, Why = $"{match.Why}; {note}" };
                    break;
            }
        }

        var tierChoice = route >= 0 ? matched[route] : sample >= 0 ? matched[sample] : null;
        var requiresApproval = matched.Any(m => m.Applied && m.Action == PolicyAction.RequireApproval);
        var redact = matched.Any(m => m.Applied && m.Action == PolicyAction.Redact);
        return new PolicyDecision(version, false, null, tierChoice?.Tier, redact, requiresApproval, matched, Summarize(matched));
    }

    /// <summary>
    /// Whether <paramref name="stickyKey"/> falls in the first <paramref name="share"/> of traffic for a policy:
    /// a stable hash, so one caller always lands on the same side and different policies split independently.
    /// </summary>
    public static bool InSample(string? stickyKey, string policyId, double share)
    {
        if (stickyKey is null || share <= 0)
        {
            return false;
        }

        if (share >= 1)
        {
            return true;
        }

        return Bucket(policyId + "\n" + stickyKey) < share;
    }

    /// <summary>A uniform value in [0, 1) for <paramref name="key"/> (FNV-1a 64 with a SplitMix64 finaliser).</summary>
    internal static double Bucket(string key)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        hash ^= hash >> 30;
        hash *= 0xbf58476d1ce4e5b9UL;
        hash ^= hash >> 27;
        hash *= 0x94d049bb133111ebUL;
        hash ^= hash >> 31;
        return (hash >> 11) * (1.0 / (1UL << 53));
    }

    private static string? Explain(PolicyRule rule, PolicyFacts facts)
    {
        if (rule.Conditions.Count == 0)
        {
            return "always (no condition)";
        }

        var reasons = new List<string>(rule.Conditions.Count);
        foreach (var condition in rule.Conditions)
        {
            if (condition.Explain(facts) is not { } reason)
            {
                return null;
            }

            reasons.Add(reason);
        }

        return string.Join("; ", reasons);
    }

    private static string Summarize(List<PolicyMatch> matched)
    {
        var parts = new List<string>();
        foreach (var match in matched.Where(m => m.Applied))
        {
            parts.Add(match.Action switch
            {
                PolicyAction.Route => $"route:{match.Tier}({match.PolicyId})",
                PolicyAction.Sample => $"sample:{match.Tier}({match.PolicyId})",
                _ => $"{PolicyParser.ActionName(match.Action)}:{match.PolicyId}",
            });
        }

        return parts.Count == 0 ? AllowByDefault : string.Join(",", parts);
    }

    private static string Share(double share) => share.ToString("0.###", CultureInfo.InvariantCulture);
}
