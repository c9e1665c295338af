namespace MicroApps.Orleans.Budgets;

/// <summary>Period boundaries of budgets, in UTC.</summary>
public static class BudgetPeriods
{
    public static DateTimeOffset StartOf(BudgetPeriod period, DateTimeOffset instant)
    {
        var utc = instant.ToUniversalTime();
        return period switch
        {
            BudgetPeriod.Day => new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero),
            BudgetPeriod.Month => new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero),
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, "unknown budget period"),
        };
    }

    public static DateTimeOffset NextStart(BudgetPeriod period, DateTimeOffset periodStart) => period switch
    {
        BudgetPeriod.Day => periodStart.AddDays(1),
        BudgetPeriod.Month => periodStart.AddMonths(1),
        _ => throw new ArgumentOutOfRangeException(nameof(period), period, "unknown budget period"),
    };
}
