using System.Collections.Concurrent;
using System.Globalization;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Savings;

/// <summary>
/// The savings router, between the route step and the budget step. Every call that gets here is given its query type
/// (for the trace). For an app with <see cref="SavingsSettings.Routing"/> that asked for a tier (not an exact model),
/// the call goes to the cheapest model of the app's allowed tiers whose estimated quality for that type meets the
/// app's SLO (<see cref="RouteChooser"/>), among the models the policies would allow for this very call and whose
/// circuit is closed. A premium call of an app with an adaptive premium share is then kept on premium for that share
/// of requests (a deterministic draw per request id) and otherwise moved to the cheaper routed model. The chosen model
/// leads the candidates, the other qualifying models and the original route follow as the fallback chain; the
/// selection (and so the exact cache key) is left as the app asked. After the call, the shadow evaluator may pick it.
/// A tier a policy routed the call to is the organisation's decision and is not changed.
/// </summary>
public sealed class CostAwareRouteStep(
    IGrainFactory grains,
    ModelCatalog catalog,
    TierRouteCache routes,
    IShadowEvaluator shadow,
    IOptions<SavingsRoutingOptions> routing,
    IOptions<SavingsRoutingSamplingOptions> sampling,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    ILogger<CostAwareRouteStep> logger) : IGovernedCallStep
{
    private readonly ConcurrentDictionary<string, (QualityTable Table, DateTimeOffset FetchedAt)> _quality = new(StringComparer.Ordinal);

    public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
    {
        var app = context.App ?? throw new InvalidOperationException("CostAwareRouteStep runs after admission.");
        context.QueryType ??= QueryClassifier.Default.Classify(app.Savings?.Task, context.Messages);

        var routes = app.Savings is { Routing: true };
        var samples = app.PremiumShare is not null;
        var byTier = context.Selection?.StartsWith("tier:", StringComparison.Ordinal) == true;
        if ((routes || samples) && byTier && !context.TierChosenByPolicy && context.BaselineModel is { } reference && context.Tier is { } tier)
        {
            await ChooseAsync(context, app, reference, tier, routes);
        }
        else if (routes || samples)
        {
            var why = !byTier ? $"the caller pinned model '{context.Selection}'" : context.TierChosenByPolicy ? $"a policy chose tier '{context.Tier}'" : "no route to start from";
            context.RouteReason = $"{context.QueryType}: stayed on the requested route: {why}";
            context.Decisions.Add($"savings:route:{context.QueryType}:kept:{(byTier ? "policy-tier" : "pinned")}");
        }

        await next(context);

        try
        {
            shadow.Consider(context);
        }
        catch (Exception ex)
        {
            // A shadow evaluation is an extra; the caller's answer is already made.
            logger.LogWarning(ex, "The shadow evaluator failed on request {RequestId} of app {AppId}", context.RequestId, app.AppId);
        }
    }

    private async Task ChooseAsync(GovernedCallContext context, AppProfile app, ModelSpec reference, string tier, bool routes)
    {
        var queryType = context.QueryType!;
        var minEvidence = routing.Value.MinEvidence;
        var candidates = await CandidatesAsync(context, app, tier);
        var quality = await QualityAsync(queryType);
        var request = new RouteRequest(
            queryType, reference, tier, candidates, quality, app.Savings?.QualitySlo ?? 0.9, minEvidence, context.InputTokens, context.ReservedOutputTokens);

        RouteChoice? final = null;
        string? saving = null;
        var reasons = new List<string>();
        var decision = "kept";
        if (routes)
        {
            var choice = RouteChooser.Choose(request);
            reasons.Add("routing " + choice.Explanation);
            decision = choice.Outcome;
            if (choice.Moved)
            {
                (final, saving) = (choice, SavingKinds.Routing);
            }
        }

        var current = final?.Model ?? reference;
        var currentTier = final?.Tier ?? tier;
        var options = sampling.Value;
        if (app.PremiumShare is { } share && options.EffectivePremiumTiers.Contains(currentTier, StringComparer.OrdinalIgnoreCase))
        {
            var draw = Draw(app.AppId, context.RequestId);
            var drawn = $"draw {Num(draw)} {(draw < share ? "<" : "≥")} premium share {Num(share)}";
            if (draw < share)
            {
                reasons.Add($"sampling: kept on {current.Name} [{currentTier}] ({drawn})");
                decision += ":sampled-premium";
            }
            else
            {
                var fallbackTier = options.EffectiveFallbackTier;
                var fallback = candidates.FirstOrDefault(c => c.ExcludedBecause is null && string.Equals(c.Tier, fallbackTier, StringComparison.OrdinalIgnoreCase));
                var moved = RouteChooser.SampleOut(request with { Reference = current, ReferenceTier = currentTier }, fallback);
                if (moved is null)
                {
                    reasons.Add($"sampling: would move the call ({drawn}) but no cheaper model is allowed; kept on {current.Name} [{currentTier}]");
                    decision += ":no-sampling-target";
                }
                else
                {
                    reasons.Add($"sampling: moved to {moved.Explanation} ({drawn})");
                    (final, saving) = (moved, SavingKinds.Sampling);
                    decision = "sampled-out";
                }
            }
        }

        if (final is not null)
        {
            var chain = new List<ModelSpec> { final.Model };
            chain.AddRange(final.Qualifying.Select(q => q.Candidate.Model));
            chain.AddRange(context.Candidates);
            context.Candidates = chain.DistinctBy(m => m.Name, StringComparer.OrdinalIgnoreCase).ToArray();
            context.Tier = final.Tier;
            context.Saving = saving;
        }

        if (reasons.Count == 0)
        {
            // A sampling-only app on a tier sampling does not cover: nothing was decided here.
            return;
        }

        context.RouteReason = string.Join(" | ", reasons);
        context.Decisions.Add($"savings:route:{queryType}:{decision}:{(final?.Model ?? reference).Name}");
    }

    /// <summary>
    /// Every model of the app's allowed tiers, health-ordered per tier, each marked with why it may not take this call:
    /// another tier is eligible only when the call's own policy set, evaluated for that tier, neither blocks the call,
    /// routes it elsewhere, nor asks for a redaction the call's messages did not get.
    /// </summary>
    private async Task<IReadOnlyList<RouteCandidate>> CandidatesAsync(GovernedCallContext context, AppProfile app, string currentTier)
    {
        var needed = (long)context.InputTokens + context.ReservedOutputTokens;
        var candidates = new List<RouteCandidate>();
        foreach (var allowed in app.AllowedTiers.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (catalog.Resolve(allowed, app.DefaultTier) is not { PinnedModel: null } resolution)
            {
                continue;
            }

            var excluded = string.Equals(resolution.Tier, currentTier, StringComparison.OrdinalIgnoreCase) ? null : PolicyExclusion(context, app, resolution);
            var route = await RouteAsync(resolution);
            var health = route.Health.ToDictionary(h => h.Model, StringComparer.OrdinalIgnoreCase);
            foreach (var model in route.Candidates.Count > 0 ? route.Candidates : resolution.Candidates)
            {
                var why = excluded
                    ?? (needed > model.ContextWindow ? $"context window {model.ContextWindow} < {needed} tokens" : null)
                    ?? (health.TryGetValue(model.Name, out var h) && !h.Available ? "circuit open" : null);
                candidates.Add(new RouteCandidate(model, resolution.Tier, why));
            }
        }

        return candidates;
    }

    private static string? PolicyExclusion(GovernedCallContext context, AppProfile app, ModelResolution resolution)
    {
        var set = context.PolicySet ?? CompiledPolicySet.None;
        var facts = PolicyStep.FactsOf(app, resolution, context.PiiFound ?? [], context.InputTokens, context.ReservedOutputTokens, PolicyStep.StickyKey(context));
        var decision = set.Evaluate(facts);
        if (decision.Blocked)
        {
            return $"blocked by policy {decision.BlockedBy?.PolicyId}";
        }

        if (decision.RouteTier is { } routed && !string.Equals(routed, resolution.Tier, StringComparison.OrdinalIgnoreCase))
        {
            return $"policy routes it to {routed}";
        }

        if (decision.Redact && context.PiiFound is { Count: > 0 } && context.Policy?.Redact != true)
        {
            return "policy would redact PII the requested tier receives";
        }

        return null;
    }

    /// <summary>The tier grain's health-ordered route (the silo's shared <see cref="TierRouteCache"/>).</summary>
    private async ValueTask<TierRoute> RouteAsync(ModelResolution resolution)
    {
        try
        {
            return await routes.GetAsync(resolution.Tier);
        }
        catch (Exception ex)
        {
            // Unknown health is not a reason to fail the call: the configured order stands in.
            logger.LogWarning(ex, "Could not read the route of tier {Tier}; using the configured order", resolution.Tier);
            return routes.LastKnown(resolution.Tier) ?? new TierRoute(resolution.Tier, resolution.Candidates, []);
        }
    }

    /// <summary>The query type's quality table, reused for <see cref="SavingsRoutingOptions.QualityCacheDuration"/>; null when never read.</summary>
    private async ValueTask<QualityTable?> QualityAsync(string queryType)
    {
        var now = time.GetUtcNow();
        if (_quality.TryGetValue(queryType, out var cached) && now - cached.FetchedAt < routing.Value.QualityCacheDuration)
        {
            return cached.Table;
        }

        try
        {
            var table = await grains.GetGrain<IModelQualityGrain>(queryType).GetAsync();
            _quality[queryType] = (table, now);
            return table;
        }
        catch (Exception ex)
        {
            // Without estimates nothing qualifies and the call stays on its route: a missing table costs savings, not answers.
            logger.LogWarning(ex, "Could not read the quality table of {QueryType}; routing uses the last one seen", queryType);
            return _quality.TryGetValue(queryType, out var stale) ? stale.Table : null;
        }
    }

    /// <summary>A deterministic draw in [0, 1) per (app, request): a retried request is sampled the same way.</summary>
    public static double Draw(string appId, string requestId) => StableDraw.Position($"{appId}\n{requestId}");

    private static string Num(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
