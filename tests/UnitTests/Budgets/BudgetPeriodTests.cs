using MicroApps.Orleans.Budgets;

namespace MicroApps.Orleans.UnitTests.Budgets;

public sealed class BudgetPeriodTests
{
    [Fact]
    public void Days_and_months_start_at_utc_midnight()
    {
        var instant = new DateTimeOffset(2026, 11, 29, 23, 30, 0, TimeSpan.FromHours(-5));

        Assert.Equal(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero), BudgetPeriods.StartOf(BudgetPeriod.Day, instant));
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), BudgetPeriods.StartOf(BudgetPeriod.Month, instant));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
            BudgetPeriods.NextStart(BudgetPeriod.Month, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero)));
    }
}
