using MicroApps.Orleans.Tiers;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Resolves the requested model to a tier, checks the app may use it and that the request fits a
/// model's context window, and orders the candidates by the tier grain's health view. Routes are cached
/// per silo for <see cref="GatewayOptions.RouteCacheDuration"/> so a busy tier is asked about once a second,
/// not once per call.
/// </summary>
public sealed class RouteStep(ModelCatalog catalog, TierRouteCache routes) : IGovernedCallStep
{
    public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
    {
        var app = context.App ?? throw new InvalidOperationException("RouteStep runs after admission.");
        var requested = context.RequestedModel;
        var resolution = context.Resolution ?? catalog.Resolve(requested, app.DefaultTier);
        if (resolution is null)
        {
            var message = string.IsNullOrWhiteSpace(requested) || string.Equals(requested.Trim(), ModelCatalogOptions.AutoModel, StringComparison.OrdinalIgnoreCase)
                ? $"The app's default tier '{app.DefaultTier}' is not configured."
                : $"No model or tier is named '{requested}'.";
            context.Fail(GovernedOutcome.UnknownModel, "model_not_found", message, "model");
            return;
        }

        context.Tier = resolution.Tier;
        context.Selection = resolution.PinnedModel ?? $"tier:{resolution.Tier}";
        // A tier a route or sample policy chose is the organisation's decision (e.g. PII to the on-prem tier), so it
        // is used even when the app did not list it.
        if (!context.TierChosenByPolicy && !app.AllowedTiers.Contains(resolution.Tier, StringComparer.OrdinalIgnoreCase))
        {
            context.Fail(
                GovernedOutcome.Forbidden,
                "model_not_allowed",
                $"App '{app.AppId}' may not use tier '{resolution.Tier}' (allowed: {string.Join(", ", app.AllowedTiers)}).",
                "model");
            return;
        }

        var candidates = resolution.PinnedModel is null ? await OrderedCandidatesAsync(resolution) : resolution.Candidates;
        var needed = (long)context.InputTokens + context.ReservedOutputTokens;
        var fitting = candidates.Where(c => needed <= c.ContextWindow).ToArray();
        if (fitting.Length == 0)
        {
            var window = candidates.Max(c => c.ContextWindow);
            if (context.InputTokens >= window)
            {
                context.Fail(GovernedOutcome.InvalidRequest, "context_length_exceeded", $"The messages take {context.InputTokens} tokens; the largest context window of tier '{resolution.Tier}' is {window}.", "messages");
            }
            else
            {
                context.Fail(GovernedOutcome.InvalidRequest, "context_length_exceeded", $"The messages take {context.InputTokens} tokens and max_tokens asks for {context.ReservedOutputTokens}; tier '{resolution.Tier}' fits at most {window} in total.", "max_tokens");
            }

            return;
        }

        context.Candidates = fitting;
        context.BaselineModel = fitting[0];
        context.Decisions.Add($"route:{resolution.Tier}:{string.Join(">", fitting.Select(c => c.Name))}");
        await next(context);
    }

    private async Task<IReadOnlyList<ModelSpec>> OrderedCandidatesAsync(ModelResolution resolution)
    {
        var route = await routes.GetAsync(resolution.Tier);

        // The tier grain and this silo read the same configuration; an empty route means it was not reached in time to know.
        return route.Candidates.Count > 0 ? route.Candidates : resolution.Candidates;
    }
}
