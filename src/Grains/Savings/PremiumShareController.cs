using MicroApps.Orleans.Budgets;

namespace MicroApps.Orleans.Savings;

/// <summary>Which way an adjustment moved the premium share, and why.</summary>
public enum PremiumShareTrend
{
    /// <summary>Spend is on pace (or there is nothing to judge it by): the share stays.</summary>
    Held = 0,

    /// <summary>The budget burns faster than the period passes: the share falls.</summary>
    Falling = 1,

    /// <summary>The budget is under pace: the share rises back.</summary>
    Rising = 2,
}

/// <summary>One adjustment of an app's premium share.</summary>
/// <param name="Share">The new share, within the app's bounds.</param>
/// <param name="Trend">Which way it moved.</param>
/// <param name="SpentShare">Settled spend as a share of the limit in the current period.</param>
/// <param name="ElapsedShare">Share of the budget period that has passed.</param>
/// <param name="BurnRatio">Spent share over elapsed share (1 = exactly on pace); null at the very start of a period or without a limit.</param>
public sealed record PremiumShareDecision(double Share, PremiumShareTrend Trend, double SpentShare, double ElapsedShare, double? BurnRatio);

/// <summary>
/// Adapts the share of an app's premium requests that stay on premium to its budget's burn rate against the
/// period's progress: spend running ahead of the elapsed share of the period by more than the tolerance cuts the
/// share multiplicatively (fast: from 1 to 0.25 in two adjustments), spend on or under pace raises it additively
/// (slowly, so it does not overshoot), always within the app's bounds. Plain and deterministic so it is tested
/// without a cluster; the app grain holds the share and calls this every <see cref="SamplingOptions.AdjustEvery"/>.
/// </summary>
public sealed class PremiumShareController(SamplingOptions options)
{
    /// <summary>The share a newly sampled app starts at: its maximum.</summary>
    public static double Initial(PremiumSampling bounds) => Bounds(bounds).Max;

    /// <summary><paramref name="share"/> (or the initial share when null) within the bounds, which may have changed since it was set.</summary>
    public static double Clamp(double? share, PremiumSampling bounds)
    {
        var (min, max) = Bounds(bounds);
        return share is { } s && double.IsFinite(s) ? Math.Clamp(s, min, max) : max;
    }

    /// <summary>The next share from the current one and the budget as read at <paramref name="now"/>.</summary>
    public PremiumShareDecision Next(double? current, PremiumSampling bounds, BudgetSnapshot budget, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(bounds);
        ArgumentNullException.ThrowIfNull(budget);
        var (min, max) = Bounds(bounds);
        var share = Clamp(current, bounds);
        var elapsed = ElapsedShare(budget.Period, now);
        if (!budget.Configured || budget.LimitUsd <= 0m)
        {
            // Without a limit there is no pace to keep; the budget refuses paid calls anyway.
            return new PremiumShareDecision(share, PremiumShareTrend.Held, 0, elapsed, null);
        }

        // A budget read before its first call of a new period still shows the last period's spend.
        var periodStart = BudgetPeriods.StartOf(budget.Period, now);
        var spent = budget.PeriodStart < periodStart ? 0d : (double)(budget.SpentUsd / budget.LimitUsd);
        double? ratio = elapsed > 0 ? spent / elapsed : null;

        if (spent >= 1d)
        {
            return new PremiumShareDecision(min, min < share ? PremiumShareTrend.Falling : PremiumShareTrend.Held, spent, elapsed, ratio);
        }

        if (spent > elapsed + options.Tolerance)
        {
            var next = Math.Max(min, share * options.DecreaseFactor);
            return new PremiumShareDecision(next, next < share ? PremiumShareTrend.Falling : PremiumShareTrend.Held, spent, elapsed, ratio);
        }

        if (spent <= elapsed)
        {
            var next = Math.Min(max, share + options.IncreaseStep);
            return new PremiumShareDecision(next, next > share ? PremiumShareTrend.Rising : PremiumShareTrend.Held, spent, elapsed, ratio);
        }

        // Ahead of pace but within the tolerance: hold, so the share does not flap around the pace line.
        return new PremiumShareDecision(share, PremiumShareTrend.Held, spent, elapsed, ratio);
    }

    /// <summary>Share of the current <paramref name="period"/> that has passed at <paramref name="now"/>, 0 to 1.</summary>
    public static double ElapsedShare(BudgetPeriod period, DateTimeOffset now)
    {
        var start = BudgetPeriods.StartOf(period, now);
        var length = BudgetPeriods.NextStart(period, start) - start;
        return Math.Clamp((now - start) / length, 0d, 1d);
    }

    private static (double Min, double Max) Bounds(PremiumSampling bounds)
    {
        var min = Math.Clamp(double.IsFinite(bounds.MinShare) ? bounds.MinShare : 0d, 0d, 1d);
        var max = Math.Clamp(double.IsFinite(bounds.MaxShare) ? bounds.MaxShare : 1d, 0d, 1d);
        return (Math.Min(min, max), max);
    }
}
