using System.Globalization;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;

namespace MicroApps.Orleans.Governance;

/// <summary>
/// The <c>cost_estimate</c> gate: the mean cost per call of the regression test runs × the app's expected calls
/// per month, against the monthly limit of the budget the app is charged to (a daily limit counts × 30).
/// </summary>
/// <remarks>
/// Rules: with no completed test run there is nothing to estimate from, so the gate fails. An unconfigured
/// budget passes only when the projection is $0 (the governed call refuses every paid call on an unconfigured
/// budget). Expected volume 0 projects $0 and says so. A shared (team) budget is compared whole: the gate judges
/// whether the app fits the budget, not what other apps have spent this month.
/// </remarks>
public static class CostEstimateGate
{
    public const int DaysPerMonth = 30;

    /// <param name="runCosts">Cost of each regression test call that completed.</param>
    /// <param name="expectedCallsPerMonth">The manifest's expected monthly volume.</param>
    /// <param name="budget">The app's effective budget.</param>
    /// <param name="at">When the gate ran.</param>
    public static GateResult Evaluate(IReadOnlyList<decimal> runCosts, long expectedCallsPerMonth, BudgetSnapshot budget, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(budget);
        if (runCosts.Count == 0)
        {
            return new GateResult(GateNames.CostEstimate, false, "no regression test call completed, so no cost per call could be estimated", at);
        }

        var mean = Math.Round(runCosts.Sum() / runCosts.Count, 8, MidpointRounding.ToPositiveInfinity);
        var volume = Math.Max(0, expectedCallsPerMonth);
        var projected = mean * volume;
        var basis = $"mean ${Usd(mean)}/call over {runCosts.Count} test call(s) × {volume.ToString(CultureInfo.InvariantCulture)} expected calls/month = ${Usd(projected)}/month";
        if (volume == 0)
        {
            basis += " (expectedCallsPerMonth is 0 or not declared)";
        }

        if (!budget.Configured)
        {
            return projected == 0m
                ? new GateResult(GateNames.CostEstimate, true, $"{basis}; budget '{budget.BudgetId}' has no limit configured, and nothing is projected", at)
                : new GateResult(GateNames.CostEstimate, false, $"{basis}, but budget '{budget.BudgetId}' has no limit configured, so no paid call would be admitted", at);
        }

        var monthly = MonthlyLimit(budget);
        var limitText = budget.Period == BudgetPeriod.Month
            ? $"${Usd(monthly)}/month"
            : $"${Usd(monthly)}/month (${Usd(budget.LimitUsd)}/day × {DaysPerMonth})";
        return projected > monthly
            ? new GateResult(GateNames.CostEstimate, false, $"{basis} exceeds budget '{budget.BudgetId}' limit {limitText}", at)
            : new GateResult(GateNames.CostEstimate, true, $"{basis} within budget '{budget.BudgetId}' limit {limitText}", at);
    }

    public static decimal MonthlyLimit(BudgetSnapshot budget) =>
        budget.Period == BudgetPeriod.Month ? budget.LimitUsd : budget.LimitUsd * DaysPerMonth;

    private static string Usd(decimal value) => value.ToString("0.########", CultureInfo.InvariantCulture);
}
