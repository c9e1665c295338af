using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Pii;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Evaluates the policy set the call was admitted under against the call's facts and carries out the decision:
/// a block ends the call (403 naming the policy), a redact masks PII in the messages the cache and the model see,
/// a route or sample changes the tier the route step resolves. The decision, with every matching policy and why,
/// goes into the trace.
/// </summary>
public sealed class PolicyStep(PolicySetCache policies, ModelCatalog catalog, TokenEstimator tokens) : IGovernedCallStep
{
    public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
    {
        var app = context.App ?? throw new InvalidOperationException("PolicyStep runs after admission.");
        var set = context.PolicySet ??= await policies.GetAsync();
        var resolution = catalog.Resolve(context.RequestedModel, app.DefaultTier);
        var facts = FactsOf(app, resolution, context.PiiFound ?? [], context.InputTokens, context.ReservedOutputTokens, StickyKey(context));
        var decision = set.Evaluate(facts);
        context.Policy = decision;
        context.Decisions.Add($"policy:v{decision.PolicyVersion}:{decision.Summary}");

        if (decision.Blocked)
        {
            var blocker = decision.BlockedBy!;
            var message = string.IsNullOrWhiteSpace(blocker.Description) ? blocker.PolicyId : $"{blocker.PolicyId}: {blocker.Description}";
            context.Fail(GovernedOutcome.Forbidden, "policy_blocked", $"Blocked by policy {message}");
            return;
        }

        if (decision.Redact && context.PiiFound is { Count: > 0 })
        {
            var findings = context.PiiFindings;
            context.Messages = context.Messages
                .Select((m, i) => m with { Content = findings is null ? PiiScanner.Default.Redact(m.Content) : PiiScanner.Default.Redact(m.Content, findings[i]) })
                .ToArray();

            // The masks are longer than most of what they replace; the budget must reserve for what the model will read.
            context.InputTokens = tokens.CountMessages(context.Messages);
        }

        if (decision.RouteTier is { } tier)
        {
            context.RequestedModel = tier;
            context.TierChosenByPolicy = true;
        }
        else
        {
            // The route step would resolve the same name again.
            context.Resolution = resolution;
        }

        await next(context);
    }

    /// <summary>The sticky key of a call: the caller's <c>user</c>, else the request id.</summary>
    public static string StickyKey(GovernedCallContext context) =>
        string.IsNullOrWhiteSpace(context.Request.Parameters?.User) ? context.RequestId : context.Request.Parameters.User.Trim();

    /// <summary>
    /// The facts of one request: the tier the requested model resolves to (null when it resolves to nothing),
    /// whether any candidate model is external, tokens (input plus reserved output) and the cost at the
    /// highest-priced candidate.
    /// </summary>
    public static PolicyFacts FactsOf(AppProfile app, string? requestedModel, IReadOnlyList<string> piiFound, int inputTokens, int reservedOutputTokens, string? stickyKey, ModelCatalog catalog) =>
        FactsOf(app, catalog.Resolve(requestedModel, app.DefaultTier), piiFound, inputTokens, reservedOutputTokens, stickyKey);

    /// <summary>The facts of one request whose model the catalog has already resolved (null: it names nothing).</summary>
    public static PolicyFacts FactsOf(AppProfile app, ModelResolution? resolution, IReadOnlyList<string> piiFound, int inputTokens, int reservedOutputTokens, string? stickyKey)
    {
        decimal? cost = resolution is { Candidates.Count: > 0 }
            ? resolution.Candidates.Max(c => PriceCalculator.Cost(c, inputTokens, reservedOutputTokens))
            : null;
        return new PolicyFacts(
            app.AppId,
            app.Team,
            app.Audience.ToString().ToLowerInvariant(),
            app.DataClasses,
            piiFound,
            resolution?.Tier,
            resolution is null ? null : resolution.Candidates.Any(c => c.External),
            (long)inputTokens + reservedOutputTokens,
            cost,
            app.PromptVersion,
            stickyKey);
    }

    /// <summary>One match for the trace: <c>{id} {action} applied|overridden: {why}</c>.</summary>
    public static string Describe(PolicyMatch match) =>
        $"{match.PolicyId} {PolicyParser.ActionName(match.Action)}{(match.Tier is null ? "" : ":" + match.Tier)} {(match.Applied ? "applied" : "overridden")}: {match.Why}";
}
