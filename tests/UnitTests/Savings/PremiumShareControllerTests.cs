using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Savings;

namespace MicroApps.Orleans.UnitTests.Savings;

public sealed class PremiumShareControllerTests
{
    // 12:00 UTC: half of the day has passed.
    private static readonly DateTimeOffset Noon = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset DayStart = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
    private static readonly PremiumSampling Bounds = new(0.2, 0.9);

    private static readonly PremiumShareController Controller = new(new SamplingOptions());

    private static BudgetSnapshot Budget(decimal spent, decimal limit = 100m, BudgetPeriod period = BudgetPeriod.Day, DateTimeOffset? start = null, bool configured = true) =>
        new("app:x", configured, limit, period, start ?? DayStart, spent, 0m, 0);

    [Fact]
    public void A_new_app_starts_at_its_maximum_share()
    {
        Assert.Equal(0.9, PremiumShareController.Initial(Bounds));
        Assert.Equal(0.9, PremiumShareController.Clamp(null, Bounds));
    }

    [Fact]
    public void Spend_ahead_of_the_period_by_more_than_the_tolerance_halves_the_share()
    {
        // 60% spent at 50% of the day: ahead by 0.10 > tolerance 0.05.
        var decision = Controller.Next(0.8, Bounds, Budget(60m), Noon);

        Assert.Equal(0.4, decision.Share, 10);
        Assert.Equal(PremiumShareTrend.Falling, decision.Trend);
        Assert.Equal(0.6, decision.SpentShare, 10);
        Assert.Equal(0.5, decision.ElapsedShare, 10);
        Assert.Equal(1.2, decision.BurnRatio!.Value, 10);
    }

    [Fact]
    public void The_share_never_falls_below_the_minimum()
    {
        var share = 0.9;
        for (var i = 0; i < 10; i++)
        {
            share = Controller.Next(share, Bounds, Budget(90m), Noon).Share;
        }

        Assert.Equal(0.2, share, 10);
        Assert.Equal(PremiumShareTrend.Held, Controller.Next(share, Bounds, Budget(90m), Noon).Trend);
    }

    [Fact]
    public void A_budget_at_its_limit_drops_the_share_to_the_minimum_at_once()
    {
        var decision = Controller.Next(0.9, Bounds, Budget(100m), Noon);

        Assert.Equal(0.2, decision.Share, 10);
        Assert.Equal(PremiumShareTrend.Falling, decision.Trend);
    }

    [Fact]
    public void Spend_under_pace_raises_the_share_by_the_step_up_to_the_maximum()
    {
        var rising = Controller.Next(0.2, Bounds, Budget(30m), Noon);
        Assert.Equal(0.3, rising.Share, 10);
        Assert.Equal(PremiumShareTrend.Rising, rising.Trend);

        var share = 0.2;
        for (var i = 0; i < 20; i++)
        {
            share = Controller.Next(share, Bounds, Budget(30m), Noon).Share;
        }

        Assert.Equal(0.9, share, 10);
    }

    [Fact]
    public void Spend_a_little_ahead_but_within_the_tolerance_holds_the_share()
    {
        // 53% spent at 50%: ahead by 0.03 < 0.05.
        var decision = Controller.Next(0.5, Bounds, Budget(53m), Noon);

        Assert.Equal(0.5, decision.Share, 10);
        Assert.Equal(PremiumShareTrend.Held, decision.Trend);
    }

    [Fact]
    public void The_tolerance_and_factors_come_from_the_options()
    {
        var strict = new PremiumShareController(new SamplingOptions { Tolerance = 0, DecreaseFactor = 0.9, IncreaseStep = 0.05 });

        Assert.Equal(0.45, strict.Next(0.5, Bounds, Budget(53m), Noon).Share, 10);
        Assert.Equal(0.55, strict.Next(0.5, Bounds, Budget(10m), Noon).Share, 10);
    }

    [Fact]
    public void An_unconfigured_budget_holds_the_share()
    {
        var decision = Controller.Next(0.5, Bounds, Budget(0m, limit: 0m, configured: false), Noon);

        Assert.Equal(0.5, decision.Share);
        Assert.Equal(PremiumShareTrend.Held, decision.Trend);
        Assert.Null(decision.BurnRatio);
    }

    [Fact]
    public void Last_periods_spend_does_not_count_in_a_new_period()
    {
        // The budget was last touched yesterday, fully spent; today nothing has been spent yet.
        var stale = Budget(100m, start: DayStart.AddDays(-1));

        var decision = Controller.Next(0.2, Bounds, stale, Noon);

        Assert.Equal(0, decision.SpentShare);
        Assert.Equal(PremiumShareTrend.Rising, decision.Trend);
    }

    [Fact]
    public void A_monthly_budget_is_paced_over_the_month()
    {
        // 15 days into a 30-day month: half elapsed.
        var mid = new DateTimeOffset(2026, 11, 16, 0, 0, 0, TimeSpan.Zero);
        var monthStart = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

        Assert.Equal(0.5, PremiumShareController.ElapsedShare(BudgetPeriod.Month, mid), 10);
        Assert.Equal(PremiumShareTrend.Falling, Controller.Next(0.9, Bounds, Budget(70m, period: BudgetPeriod.Month, start: monthStart), mid).Trend);
        Assert.Equal(PremiumShareTrend.Rising, Controller.Next(0.5, Bounds, Budget(30m, period: BudgetPeriod.Month, start: monthStart), mid).Trend);
    }

    [Fact]
    public void A_share_outside_changed_bounds_is_brought_back_within_them()
    {
        Assert.Equal(0.5, PremiumShareController.Clamp(0.9, new PremiumSampling(0.1, 0.5)));
        Assert.Equal(0.3, PremiumShareController.Clamp(0.1, new PremiumSampling(0.3, 0.5)));
        Assert.Equal(0.5, Controller.Next(0.9, new PremiumSampling(0.1, 0.5), Budget(50m), Noon).Share, 10);
    }

    [Fact]
    public void From_the_maximum_the_share_reaches_a_minimum_of_a_quarter_in_two_adjustments()
    {
        // "Reacts within a minute": with the default 15 s interval two adjustments take 30 s.
        var bounds = new PremiumSampling(0.25, 1);
        var share = PremiumShareController.Initial(bounds);
        share = Controller.Next(share, bounds, Budget(80m), Noon).Share;
        share = Controller.Next(share, bounds, Budget(80m), Noon).Share;

        Assert.Equal(0.25, share, 10);
    }
}
