using MicroApps.Orleans.Budgets;

namespace MicroApps.Orleans.GrainTests.Budgets;

[Collection(ClusterCollection.Name)]
public sealed class BudgetAlertTests(ClusterFixture fixture)
{
    private async Task<IBudgetGrain> NewBudgetAsync(decimal limit, BudgetExceededBehavior onExceeded = BudgetExceededBehavior.Throttle, IReadOnlyList<decimal>? thresholds = null)
    {
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"alerts:{Guid.NewGuid():N}");
        await budget.ConfigureAsync(new BudgetSettings(limit, BudgetPeriod.Day) { OnExceeded = onExceeded, Thresholds = thresholds });
        return budget;
    }

    private static async Task SpendAsync(IBudgetGrain budget, string requestId, decimal amount)
    {
        Assert.True((await budget.ReserveAsync(requestId, amount)).IsGranted, $"reserve {requestId}");
        Assert.Equal(SettleOutcome.Settled, (await budget.SettleAsync(requestId, amount)).Outcome);
    }

    [Fact]
    public async Task Thresholds_60_80_100_fire_once_each_under_concurrent_and_retried_settles()
    {
        var budget = await NewBudgetAsync(10m);
        var ids = Enumerable.Range(0, 100).Select(i => $"r{i}").ToArray();
        var reserved = await Task.WhenAll(ids.Select(id => budget.ReserveAsync(id, 0.1m)));
        Assert.All(reserved, r => Assert.True(r.IsGranted));

        // Every settle twice at once: one of each pair is a retry.
        var settled = await Task.WhenAll(ids.Concat(ids).Select(id => budget.SettleAsync(id, 0.1m)));

        Assert.Equal(100, settled.Count(s => s.Outcome == SettleOutcome.Settled));
        var alerts = await budget.GetAlertsAsync();
        Assert.Equal([1.0m, 0.8m, 0.6m], alerts.Select(a => a.Alert.Threshold).ToArray());
        Assert.Equal(alerts.Count, alerts.Select(a => a.Alert.AlertId).Distinct().Count());
        var snapshot = await budget.GetAsync();
        Assert.Equal(10m, snapshot.SpentUsd);
        Assert.Equal([0.6m, 0.8m, 1.0m], snapshot.RaisedThresholds.Order().ToArray());
        Assert.NotNull(snapshot.ReachedLimitAt);

        // Each alert carries the spend that crossed it, not the final spend.
        var sixty = alerts.Single(a => a.Alert.Threshold == 0.6m).Alert;
        Assert.InRange(sixty.SpentUsd, 6m, 6.09m);
        Assert.Equal(10m, sixty.LimitUsd);
        Assert.Equal("spend", sixty.Trigger);

        // Retrying settles after the fact raises nothing either.
        await Task.WhenAll(ids.Select(id => budget.SettleAsync(id, 0.1m)));
        Assert.Equal(3, (await budget.GetAlertsAsync()).Count);
    }

    [Fact]
    public async Task Thresholds_fire_again_after_the_period_rolls()
    {
        var budget = await NewBudgetAsync(10m);
        await SpendAsync(budget, "a", 6.5m);
        var first = Assert.Single(await budget.GetAlertsAsync());

        await SpendAsync(budget, "b", 0.5m);
        Assert.Single(await budget.GetAlertsAsync());

        ClusterFixture.Time.Advance(TimeSpan.FromDays(1));
        Assert.Empty((await budget.GetAsync()).RaisedThresholds);
        await SpendAsync(budget, "c", 6m);

        var alerts = await budget.GetAlertsAsync();
        Assert.Equal(2, alerts.Count);
        var second = alerts[0].Alert;
        Assert.Equal(0.6m, second.Threshold);
        Assert.NotEqual(first.Alert.AlertId, second.AlertId);
        Assert.Equal(first.Alert.PeriodStart.AddDays(1), second.PeriodStart);
    }

    [Fact]
    public async Task One_settle_past_two_thresholds_raises_both()
    {
        var budget = await NewBudgetAsync(10m);

        await SpendAsync(budget, "big", 8.5m);

        Assert.Equal([0.8m, 0.6m], (await budget.GetAlertsAsync()).Select(a => a.Alert.Threshold).ToArray());
    }

    [Fact]
    public async Task Per_budget_thresholds_replace_the_platform_default()
    {
        var budget = await NewBudgetAsync(10m, thresholds: [0.5m, 0.9m]);

        await SpendAsync(budget, "a", 6.5m);

        var snapshot = await budget.GetAsync();
        Assert.False(snapshot.DefaultThresholds);
        Assert.Equal([0.5m, 0.9m], snapshot.Thresholds.ToArray());
        Assert.Equal(0.5m, Assert.Single(await budget.GetAlertsAsync()).Alert.Threshold);
    }

    [Fact]
    public async Task A_budget_that_cannot_cover_a_call_after_the_last_warning_has_reached_100_percent()
    {
        var budget = await NewBudgetAsync(1m);
        await SpendAsync(budget, "a", 0.85m);

        var refused = await budget.ReserveAsync("b", 0.2m);

        Assert.Equal(ReservationOutcome.Exceeded, refused.Outcome);
        var hundred = (await budget.GetAlertsAsync()).Single(a => a.Alert.Threshold == 1m).Alert;
        Assert.Equal("refusal", hundred.Trigger);
        Assert.Equal(0.85m, hundred.SpentUsd);
        Assert.NotNull((await budget.GetAsync()).ReachedLimitAt);
    }

    [Fact]
    public async Task An_oversized_call_early_in_the_period_does_not_count_as_100_percent()
    {
        var budget = await NewBudgetAsync(1m);
        await SpendAsync(budget, "a", 0.1m);

        Assert.Equal(ReservationOutcome.Exceeded, (await budget.ReserveAsync("huge", 0.95m)).Outcome);

        var snapshot = await budget.GetAsync();
        Assert.Null(snapshot.ReachedLimitAt);
        Assert.Empty(await budget.GetAlertsAsync());
    }

    [Fact]
    public async Task Soft_shutdown_refuses_every_call_once_the_budget_reached_100_percent()
    {
        var budget = await NewBudgetAsync(1m, BudgetExceededBehavior.SoftShutdown);
        await SpendAsync(budget, "a", 0.5m);
        Assert.False((await budget.GetAsync()).SoftShutdown);

        await SpendAsync(budget, "b", 0.5m);
        var tiny = await budget.ReserveAsync("c", 0m);

        Assert.Equal(ReservationOutcome.SoftShutdown, tiny.Outcome);
        Assert.Contains("acknowledge", tiny.Reason);
        Assert.True(tiny.RetryAfter > TimeSpan.Zero);
        Assert.True((await budget.GetAsync()).SoftShutdown);
    }

    [Fact]
    public async Task Soft_shutdown_lifts_when_the_period_turns()
    {
        var budget = await NewBudgetAsync(1m, BudgetExceededBehavior.SoftShutdown);
        await SpendAsync(budget, "a", 1m);
        Assert.Equal(ReservationOutcome.SoftShutdown, (await budget.ReserveAsync("b", 0.1m)).Outcome);

        ClusterFixture.Time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(ReservationOutcome.Granted, (await budget.ReserveAsync("b", 0.1m)).Outcome);
        Assert.False((await budget.GetAsync()).SoftShutdown);
    }

    [Fact]
    public async Task A_raised_limit_is_pending_until_the_owner_acknowledges()
    {
        var budget = await NewBudgetAsync(1m, BudgetExceededBehavior.SoftShutdown);
        await SpendAsync(budget, "a", 1m);

        var raised = await budget.ConfigureAsync(new BudgetSettings(5m, BudgetPeriod.Day));

        Assert.Equal(1m, raised.LimitUsd);
        Assert.Equal(5m, raised.PendingLimitUsd);
        Assert.Equal(ReservationOutcome.SoftShutdown, (await budget.ReserveAsync("b", 1m)).Outcome);

        var ack = await budget.AcknowledgeAsync("author-alice");

        Assert.True(ack.Acknowledged);
        Assert.Equal(5m, ack.AppliedLimitUsd);
        Assert.Equal(5m, ack.Budget.LimitUsd);
        Assert.Null(ack.Budget.PendingLimitUsd);
        Assert.Equal("author-alice", ack.Budget.AcknowledgedBy);
        Assert.False(ack.Budget.SoftShutdown);
        Assert.Equal(ReservationOutcome.Granted, (await budget.ReserveAsync("b", 1m)).Outcome);
    }

    [Fact]
    public async Task A_throttled_budget_also_waits_for_the_acknowledgement_of_a_raised_limit()
    {
        var budget = await NewBudgetAsync(1m);
        await SpendAsync(budget, "a", 1m);
        await budget.ConfigureAsync(new BudgetSettings(3m, BudgetPeriod.Day));

        Assert.Equal(ReservationOutcome.Exceeded, (await budget.ReserveAsync("b", 1m)).Outcome);
        await budget.AcknowledgeAsync("admin");

        Assert.Equal(ReservationOutcome.Granted, (await budget.ReserveAsync("b", 1m)).Outcome);
    }

    [Fact]
    public async Task A_raised_limit_applies_at_once_when_the_budget_has_not_reached_100_percent()
    {
        var budget = await NewBudgetAsync(1m);
        await SpendAsync(budget, "a", 0.5m);

        var raised = await budget.ConfigureAsync(new BudgetSettings(2m, BudgetPeriod.Day));

        Assert.Equal(2m, raised.LimitUsd);
        Assert.Null(raised.PendingLimitUsd);
    }

    [Fact]
    public async Task A_lowered_limit_applies_at_once_and_replaces_a_pending_one()
    {
        var budget = await NewBudgetAsync(2m);
        await SpendAsync(budget, "a", 2m);
        await budget.ConfigureAsync(new BudgetSettings(5m, BudgetPeriod.Day));

        var lowered = await budget.ConfigureAsync(new BudgetSettings(1.5m, BudgetPeriod.Day));

        Assert.Equal(1.5m, lowered.LimitUsd);
        Assert.Null(lowered.PendingLimitUsd);
    }

    [Fact]
    public async Task Acknowledging_a_budget_with_nothing_to_acknowledge_is_refused()
    {
        var budget = await NewBudgetAsync(1m);

        var ack = await budget.AcknowledgeAsync("author-alice");

        Assert.False(ack.Acknowledged);
        Assert.Contains("has not reached 100%", ack.Detail);
        Assert.Null((await budget.GetAsync()).AcknowledgedAt);
    }

    [Fact]
    public async Task Alerts_are_handed_to_the_outbox_and_recorded_without_targets()
    {
        var budget = await NewBudgetAsync(1m);
        await SpendAsync(budget, "a", 0.7m);
        var outbox = fixture.Grains.GetGrain<IAlertOutboxGrain>(budget.GetPrimaryKeyString());

        await Eventually.TrueAsync(async () => (await outbox.ListAsync()).Count == 1, "the alert to reach the outbox");

        var stored = Assert.Single(await outbox.ListAsync());
        Assert.Equal(AlertState.Recorded, stored.State);
        Assert.Empty(stored.Deliveries);
        Assert.Contains(budget.GetPrimaryKeyString(), await fixture.Grains.GetGrain<IAlertIndexGrain>(0).ListBudgetsAsync());
    }

    [Fact]
    public async Task Invalid_thresholds_are_refused()
    {
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"alerts:{Guid.NewGuid():N}");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => budget.ConfigureAsync(new BudgetSettings(1m, BudgetPeriod.Day) { Thresholds = [0.5m, 1.5m] }));

        Assert.Contains("(0, 1]", error.Message);
    }
}
