using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Pii;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace MicroApps.Orleans.Policies;

/// <summary>
/// Answers "what would the policies do to this request of this app" with the same facts the governed call builds
/// (PII scan, tier resolution, token and cost estimates) against the same per-silo view of the policy set.
/// </summary>
[StatelessWorker]
public sealed class PolicyDryRunGrain(PolicySetCache policies, ModelCatalog catalog, TokenEstimator tokens, IOptions<GatewayOptions> gateway) : Grain, IPolicyDryRunGrain
{
    public async Task<PolicyDryRunResult> DryRunAsync(PolicyDryRunRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var info = await GrainFactory.GetGrain<IMicroAppGrain>(request.AppId).GetAsync();
        if (info is null)
        {
            return new PolicyDryRunResult(false, null, null, [], null);
        }

        var m = info.Manifest;
        var app = new AppProfile(info.AppId, m.Team, m.Audience, m.DataClasses, m.AllowedTiers, m.DefaultTier, info.EffectiveBudgetId, Prompts.PromptVersions.Label(m), Owner: m.Owner);
        var messages = request.Messages ?? [];
        var pii = PiiScanner.Default.Classes(messages.Select(t => t.Content));
        var inputTokens = tokens.CountMessages(messages);
        var outputTokens = request.MaxTokens ?? gateway.Value.DefaultMaxOutputTokens;
        var sticky = !string.IsNullOrWhiteSpace(request.User) ? request.User.Trim()
            : !string.IsNullOrWhiteSpace(request.RequestId) ? request.RequestId.Trim()
            : "dry-run";
        var facts = PolicyStep.FactsOf(app, request.Model, pii, inputTokens, outputTokens, sticky, catalog);
        var decision = (await policies.GetAsync()).Evaluate(facts);
        var redacted = decision is { Blocked: false, Redact: true } && pii.Count > 0
            ? messages.Select(t => t with { Content = PiiScanner.Default.Redact(t.Content) }).ToArray()
            : null;
        return new PolicyDryRunResult(true, facts, decision, pii, redacted);
    }
}
