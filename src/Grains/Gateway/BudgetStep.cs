using System.Collections.Concurrent;
using MicroApps.Orleans.Alerts;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Reserves the worst-case cost (the tier's highest-priced candidate × estimated tokens) before the call
/// and settles the real cost after it, or releases the reservation when nothing chargeable ran. The
/// backend is given the reserved output tokens as its limit, so the real cost stays within the estimate.
/// Calls whose estimate is $0 (the local tier) reserve nothing: there is no spend to govern, and skipping
/// saves two durable budget writes per free call; they only check (through a per-silo view refreshed every
/// <see cref="GatewayOptions.RouteCacheDuration"/>) that the budget is not in a soft shutdown.
/// What happens when the reservation does not fit is the budget's <see cref="BudgetExceededBehavior"/>: refused
/// (throttle), served on the degrade tier (degrade), or, once the budget reached 100% with soft shutdown, every call
/// refused with <c>budget_soft_shutdown</c>.
/// </summary>
public sealed class BudgetStep(
    IGrainFactory grains,
    ModelCatalog catalog,
    IOptions<AlertOptions> alerts,
    IOptions<GatewayOptions> gateway,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    ILogger<BudgetStep> logger) : IGovernedCallStep
{
    private static readonly TimeSpan[] CloseRetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)];

    private readonly ConcurrentDictionary<string, (BudgetSnapshot Budget, DateTimeOffset FetchedAt)> _views = new(StringComparer.Ordinal);

    public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
    {
        var app = context.App ?? throw new InvalidOperationException("BudgetStep runs after admission.");
        var estimate = context.Candidates.Max(c => PriceCalculator.Cost(c, context.InputTokens, context.ReservedOutputTokens));
        context.EstimatedCostUsd = estimate;

        // The profile already names the effective budget (AppManifestRules.EffectiveBudgetId).
        var budgetId = app.BudgetId;
        if (estimate == 0m)
        {
            if (await ViewAsync(budgetId) is { SoftShutdown: true } shutDown)
            {
                FailSoftShutdown(context, budgetId, shutDown.Period, shutDown.PeriodStart, null);
                return;
            }

            context.Decisions.Add("budget:free");
            await next(context);
            return;
        }

        var reservationId = $"{app.AppId}/{context.RequestId}";
        var budget = grains.GetGrain<IBudgetGrain>(budgetId);
        var reservation = await budget.ReserveAsync(reservationId, estimate);
        _views[budgetId] = (reservation.Budget, time.GetUtcNow());
        if (!reservation.IsGranted && reservation.Outcome == ReservationOutcome.Exceeded && reservation.Budget.OnExceeded == BudgetExceededBehavior.Degrade)
        {
            var degraded = Degrade(context, budgetId, estimate);
            if (degraded is null)
            {
                context.Fail(GovernedOutcome.BudgetExceeded, "budget_exceeded", Reason(reservation, $"Budget '{budgetId}' cannot cover the estimated ${estimate}."), retryAfter: reservation.RetryAfter);
                return;
            }

            estimate = degraded.Value;
            context.EstimatedCostUsd = estimate;
            if (estimate == 0m)
            {
                await next(context);
                return;
            }

            // The refused reservation left nothing behind, so the same id reserves the cheaper estimate.
            reservation = await budget.ReserveAsync(reservationId, estimate);
        }

        if (!reservation.IsGranted)
        {
            switch (reservation.Outcome)
            {
                case ReservationOutcome.AlreadyClosed:
                    context.Fail(GovernedOutcome.InvalidRequest, "duplicate_request_id", $"Request id '{context.RequestId}' was already completed; use a new id for a new call.", "request_id");
                    break;
                case ReservationOutcome.NotConfigured:
                    context.Fail(GovernedOutcome.BudgetExceeded, "budget_not_configured", Reason(reservation, $"Budget '{budgetId}' has no limit set, so nothing may be spent."), retryAfter: reservation.RetryAfter);
                    break;
                case ReservationOutcome.SoftShutdown:
                    FailSoftShutdown(context, budgetId, reservation.Budget.Period, reservation.Budget.PeriodStart, reservation.Reason);
                    break;
                default:
                    context.Fail(GovernedOutcome.BudgetExceeded, "budget_exceeded", Reason(reservation, $"Budget '{budgetId}' cannot cover the estimated ${estimate}."), retryAfter: reservation.RetryAfter);
                    break;
            }

            return;
        }

        context.Decisions.Add($"budget:{budgetId}:reserved={estimate}");
        try
        {
            await next(context);
        }
        finally
        {
            // Runs for refusals, failures, exceptions and callers who stop a stream early alike.
            await CloseAsync(context, budget, budgetId, reservationId);
        }
    }

    private static string Reason(ReservationResult reservation, string fallback) =>
        string.IsNullOrEmpty(reservation.Reason) ? fallback : reservation.Reason;

    private void FailSoftShutdown(GovernedCallContext context, string budgetId, BudgetPeriod period, DateTimeOffset periodStart, string? reason)
    {
        var nextPeriod = BudgetPeriods.NextStart(period, periodStart);
        var retryAfter = nextPeriod - time.GetUtcNow();
        context.Decisions.Add($"budget:{budgetId}:soft-shutdown");
        context.Fail(
            GovernedOutcome.BudgetExceeded,
            "budget_soft_shutdown",
            reason ?? $"Budget '{budgetId}' reached 100% and is shut down until {nextPeriod:u} or until an owner of an app using it acknowledges (POST /admin/budgets/{budgetId}/acknowledge).",
            retryAfter: retryAfter > TimeSpan.Zero ? retryAfter : TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Moves the call to the degrade tier (the org's decision, so the app need not list it); the new estimate, or null
    /// when there is no cheaper tier that can hold the request.
    /// </summary>
    private decimal? Degrade(GovernedCallContext context, string budgetId, decimal refusedEstimate)
    {
        var tier = alerts.Value.EffectiveDegradeTier;
        if (string.Equals(context.Tier, tier, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var needed = (long)context.InputTokens + context.ReservedOutputTokens;
        var fitting = catalog.ModelsOf(tier).Where(c => needed <= c.ContextWindow).ToArray();
        if (fitting.Length == 0)
        {
            context.Decisions.Add($"budget:{budgetId}:degrade-impossible:{tier}");
            return null;
        }

        var estimate = fitting.Max(c => PriceCalculator.Cost(c, context.InputTokens, context.ReservedOutputTokens));
        if (estimate >= refusedEstimate)
        {
            context.Decisions.Add($"budget:{budgetId}:degrade-not-cheaper:{tier}");
            return null;
        }

        context.Decisions.Add($"budget:{budgetId}:degraded:{context.Tier}->{tier}");
        context.Tier = catalog.Resolve(tier, tier)?.Tier ?? tier;
        context.Selection = $"tier:{context.Tier}";
        context.Candidates = fitting;
        if (estimate == 0m)
        {
            context.Decisions.Add("budget:free");
        }

        return estimate;
    }

    /// <summary>The budget as this silo last saw it, refreshed when older than the route cache duration.</summary>
    private async ValueTask<BudgetSnapshot?> ViewAsync(string budgetId)
    {
        var now = time.GetUtcNow();
        if (_views.TryGetValue(budgetId, out var cached) && now - cached.FetchedAt < gateway.Value.RouteCacheDuration)
        {
            return cached.Budget;
        }

        try
        {
            var budget = await grains.GetGrain<IBudgetGrain>(budgetId).GetAsync();
            _views[budgetId] = (budget, now);
            return budget;
        }
        catch (Exception ex)
        {
            // A free call spends nothing: when the budget cannot be read, it is not the reason the call fails.
            logger.LogWarning(ex, "Could not read budget {BudgetId} for a free call; serving it", budgetId);
            return cached.Budget;
        }
    }

    private async Task CloseAsync(GovernedCallContext context, IBudgetGrain budget, string budgetId, string reservationId)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (context.ActualCostUsd is { } actual)
                {
                    var settled = await budget.SettleAsync(reservationId, actual);
                    context.Decisions.Add($"budget:settled={settled.ChargedUsd}:{settled.Outcome}");
                }
                else
                {
                    await budget.ReleaseAsync(reservationId);
                    context.Decisions.Add("budget:released");
                }

                return;
            }
            catch (Exception ex) when (attempt < CloseRetryDelays.Length)
            {
                logger.LogWarning(ex, "Closing reservation {ReservationId} on budget {BudgetId} failed; retrying", reservationId, budgetId);
                await Task.Delay(CloseRetryDelays[attempt]);
            }
            catch (Exception ex)
            {
                // The reservation stays until its TTL releases it; the spend it stood for is then not charged.
                logger.LogError(ex, "Could not close reservation {ReservationId} on budget {BudgetId}", reservationId, budgetId);
                context.Decisions.Add("budget:close-failed");
                return;
            }
        }
    }
}
