using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.Governance;

/// <summary>
/// The <c>policy</c> gate: the policy set evaluated with the app's facts alone (no request). It never fails a
/// promotion; a <c>require_approval</c> match (or a policy set that cannot be evaluated) makes a named approver
/// necessary even for an internal app.
/// </summary>
public static class PolicyGate
{
    /// <summary>The facts of an app version with every request fact left null.</summary>
    public static PolicyFacts FactsOf(string appId, AppManifest manifest) => new(
        appId,
        manifest.Team,
        manifest.Audience.ToString().ToLowerInvariant(),
        manifest.DataClasses ?? [],
        RequestPii: null,
        ModelTier: null,
        ModelExternal: null,
        TokensEstimate: null,
        CostEstimateUsd: null,
        PromptVersions.Label(manifest),
        StickyKey: null);

    /// <summary>The gate result and whether an approver is required.</summary>
    /// <param name="decision">The decision, or null when the policy set could not be evaluated.</param>
    /// <param name="error">Why it could not be evaluated.</param>
    /// <param name="at">When the gate ran.</param>
    public static (GateResult Result, bool NeedsApprover) Evaluate(PolicyDecision? decision, string? error, DateTimeOffset at)
    {
        if (decision is null)
        {
            return (new GateResult(GateNames.Policy, true, $"the policy set could not be evaluated ({error ?? "no answer"}); an approver is required", at), true);
        }

        var parts = new List<string>();
        if (decision.RequiresApproval)
        {
            var by = decision.Matches.Where(m => m.Action == PolicyAction.RequireApproval && m.Applied).Select(m => $"'{m.PolicyId}' ({m.Why})").ToList();
            if (by.Count == 0)
            {
                by = decision.Matches.Where(m => m.Action == PolicyAction.RequireApproval).Select(m => $"'{m.PolicyId}' ({m.Why})").ToList();
            }

            parts.Add(by.Count == 0 ? "the policy set requires an approver" : $"approval required by policy {string.Join(", ", by)}");
        }
        else
        {
            parts.Add("no policy requires approval");
        }

        if (decision.Blocked && decision.BlockedBy is { } block)
        {
            // The gate does not fail for it, but the author should know every call would be refused.
            parts.Add($"note: policy '{block.PolicyId}' blocks this app's calls ({block.Why})");
        }

        parts.Add($"policy set v{decision.PolicyVersion}");
        return (new GateResult(GateNames.Policy, true, string.Join("; ", parts), at), decision.RequiresApproval);
    }
}
