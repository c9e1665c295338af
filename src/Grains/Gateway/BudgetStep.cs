using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Reserves the worst-case cost (the tier's highest-priced candidate × estimated tokens) before the call
/// and settles the real cost after it, or releases the reservation when nothing chargeable ran. The
/// backend is given the reserved output tokens as its limit, so the real cost stays within the estimate.
/// Calls whose estimate is $0 (the local tier) reserve nothing: there is no spend to govern, and skipping
/// saves two durable budget writes per free call.
/// </summary>
public sealed class BudgetStep(IGrainFactory grains, ILogger<BudgetStep> logger) : IGovernedCallStep
{
    private static readonly TimeSpan[] CloseRetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)];

    public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
    {
        var app = context.App ?? throw new InvalidOperationException("BudgetStep runs after admission.");
        var estimate = context.Candidates.Max(c => PriceCalculator.Cost(c, context.InputTokens, context.ReservedOutputTokens));
        context.EstimatedCostUsd = estimate;
        if (estimate == 0m)
        {
            context.Decisions.Add("budget:free");
            await next(context);
            return;
        }

        // The profile already names the effective budget (AppManifestRules.EffectiveBudgetId).
        var budgetId = app.BudgetId;
        var reservationId = $"{app.AppId}/{context.RequestId}";
        var budget = grains.GetGrain<IBudgetGrain>(budgetId);
        var reservation = await budget.ReserveAsync(reservationId, estimate);
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
