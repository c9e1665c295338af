using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Governance;
using static MicroApps.Orleans.UnitTests.Governance.GateTestData;

namespace MicroApps.Orleans.UnitTests.Governance;

public sealed class CostEstimateGateTests
{
    private static BudgetSnapshot Budget(decimal limit, BudgetPeriod period, bool configured = true) =>
        new("app:x", configured, limit, period, At, 0m, 0m, 0);

    [Fact]
    public void Projection_within_a_monthly_limit_passes_with_the_figures()
    {
        var result = CostEstimateGate.Evaluate([0.01m, 0.03m], 1000, Budget(25m, BudgetPeriod.Month), At);

        Assert.True(result.Passed, result.Detail);
        Assert.Equal(GateNames.CostEstimate, result.Gate);
        Assert.Contains("mean $0.02/call over 2 test call(s) × 1000 expected calls/month = $20/month", result.Detail);
        Assert.Contains("limit $25/month", result.Detail);
    }

    [Fact]
    public void Projection_over_the_monthly_limit_fails()
    {
        var result = CostEstimateGate.Evaluate([0.02m], 1000, Budget(19.99m, BudgetPeriod.Month), At);

        Assert.False(result.Passed);
        Assert.Contains("$20/month exceeds budget 'app:x' limit $19.99/month", result.Detail);
    }

    [Fact]
    public void A_daily_limit_counts_thirty_times()
    {
        var fits = CostEstimateGate.Evaluate([0.02m], 1000, Budget(0.67m, BudgetPeriod.Day), At);
        var over = CostEstimateGate.Evaluate([0.02m], 1000, Budget(0.66m, BudgetPeriod.Day), At);

        Assert.True(fits.Passed, fits.Detail);
        Assert.Contains("$20.1/month ($0.67/day × 30)", fits.Detail);
        Assert.False(over.Passed);
    }

    [Fact]
    public void No_completed_test_call_means_no_estimate_and_fails()
    {
        var result = CostEstimateGate.Evaluate([], 1000, Budget(100m, BudgetPeriod.Month), At);

        Assert.False(result.Passed);
        Assert.Contains("no regression test call completed", result.Detail);
    }

    [Fact]
    public void An_unconfigured_budget_passes_only_a_free_projection()
    {
        var free = CostEstimateGate.Evaluate([0m, 0m], 50_000, Budget(0m, BudgetPeriod.Month, configured: false), At);
        var paid = CostEstimateGate.Evaluate([0.001m], 10, Budget(0m, BudgetPeriod.Month, configured: false), At);

        Assert.True(free.Passed, free.Detail);
        Assert.Contains("no limit configured", free.Detail);
        Assert.False(paid.Passed);
        Assert.Contains("no paid call would be admitted", paid.Detail);
    }

    [Fact]
    public void Zero_expected_volume_projects_nothing_and_says_so()
    {
        var result = CostEstimateGate.Evaluate([5m], 0, Budget(1m, BudgetPeriod.Month), At);

        Assert.True(result.Passed, result.Detail);
        Assert.Contains("expectedCallsPerMonth is 0", result.Detail);
    }
}
