using MicroApps.Orleans.Budgets;

namespace MicroApps.Orleans.GrainTests.Budgets;

[Collection(ClusterCollection.Name)]
public sealed class BudgetGrainTests(ClusterFixture fixture)
{
    private async Task<IBudgetGrain> NewBudgetAsync(decimal limit, BudgetPeriod period = BudgetPeriod.Day)
    {
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"test:{Guid.NewGuid():N}");
        await budget.ConfigureAsync(new BudgetSettings(limit, period));
        return budget;
    }

    [Fact]
    public async Task Concurrent_reservations_are_granted_exactly_up_to_the_limit()
    {
        var budget = await NewBudgetAsync(10m);

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => budget.ReserveAsync($"r{i}", 1m)));

        Assert.Equal(10, results.Count(r => r.Outcome == ReservationOutcome.Granted));
        Assert.Equal(40, results.Count(r => r.Outcome == ReservationOutcome.Exceeded));
        var snapshot = await budget.GetAsync();
        Assert.Equal(10m, snapshot.ReservedUsd);
        Assert.Equal(0m, snapshot.AvailableUsd);
    }

    [Fact]
    public async Task Settle_is_idempotent_by_request_id()
    {
        var budget = await NewBudgetAsync(5m);
        await budget.ReserveAsync("a", 2m);

        var first = await budget.SettleAsync("a", 1.5m);
        var again = await budget.SettleAsync("a", 1.5m);

        Assert.Equal(SettleOutcome.Settled, first.Outcome);
        Assert.Equal(SettleOutcome.AlreadySettled, again.Outcome);
        Assert.Equal(1.5m, again.ChargedUsd);
        var snapshot = await budget.GetAsync();
        Assert.Equal(1.5m, snapshot.SpentUsd);
        Assert.Equal(0m, snapshot.ReservedUsd);
    }

    [Fact]
    public async Task Concurrent_repeats_of_one_settle_charge_once()
    {
        var budget = await NewBudgetAsync(5m);
        await budget.ReserveAsync("a", 2m);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => budget.SettleAsync("a", 2m)));

        Assert.Single(results, r => r.Outcome == SettleOutcome.Settled);
        Assert.Equal(2m, (await budget.GetAsync()).SpentUsd);
    }

    [Fact]
    public async Task Reserve_is_idempotent_by_request_id()
    {
        var budget = await NewBudgetAsync(5m);

        var first = await budget.ReserveAsync("a", 3m);
        var again = await budget.ReserveAsync("a", 3m);

        Assert.Equal(ReservationOutcome.Granted, first.Outcome);
        Assert.Equal(ReservationOutcome.AlreadyGranted, again.Outcome);
        Assert.Equal(3m, (await budget.GetAsync()).ReservedUsd);
    }

    [Fact]
    public async Task A_settled_request_id_cannot_reserve_again()
    {
        var budget = await NewBudgetAsync(5m);
        await budget.ReserveAsync("a", 1m);
        await budget.SettleAsync("a", 1m);

        var again = await budget.ReserveAsync("a", 1m);

        Assert.Equal(ReservationOutcome.AlreadyClosed, again.Outcome);
        Assert.Equal(0m, (await budget.GetAsync()).ReservedUsd);
    }

    [Fact]
    public async Task Release_frees_the_reservation_and_a_later_settle_charges_nothing()
    {
        var budget = await NewBudgetAsync(5m);
        await budget.ReserveAsync("a", 4m);

        Assert.True(await budget.ReleaseAsync("a"));
        Assert.False(await budget.ReleaseAsync("a"));
        var late = await budget.SettleAsync("a", 4m);

        Assert.Equal(SettleOutcome.UnknownReservation, late.Outcome);
        var snapshot = await budget.GetAsync();
        Assert.Equal(0m, snapshot.SpentUsd);
        Assert.Equal(0m, snapshot.ReservedUsd);
    }

    [Fact]
    public async Task Refusal_names_the_budget_and_suggests_a_retry()
    {
        var budget = await NewBudgetAsync(1m);
        await budget.ReserveAsync("a", 1m);

        var refused = await budget.ReserveAsync("b", 0.5m);

        Assert.Equal(ReservationOutcome.Exceeded, refused.Outcome);
        Assert.Contains(budget.GetPrimaryKeyString(), refused.Reason);
        Assert.NotNull(refused.RetryAfter);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
    }

    [Fact]
    public async Task An_unconfigured_budget_grants_nothing()
    {
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"test:{Guid.NewGuid():N}");

        var result = await budget.ReserveAsync("a", 0.01m);

        Assert.Equal(ReservationOutcome.NotConfigured, result.Outcome);
        Assert.False(result.IsGranted);
    }

    [Fact]
    public async Task Reservations_that_are_never_settled_expire()
    {
        var budget = await NewBudgetAsync(2m);
        await budget.ReserveAsync("stuck", 2m);
        Assert.Equal(ReservationOutcome.Exceeded, (await budget.ReserveAsync("next", 1m)).Outcome);

        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(6));

        Assert.Equal(0m, (await budget.GetAsync()).ReservedUsd);
        Assert.Equal(ReservationOutcome.Granted, (await budget.ReserveAsync("next", 1m)).Outcome);
        Assert.Equal(SettleOutcome.UnknownReservation, (await budget.SettleAsync("stuck", 2m)).Outcome);
    }

    [Fact]
    public async Task Spend_resets_when_the_period_turns()
    {
        var budget = await NewBudgetAsync(1m);
        await budget.ReserveAsync("a", 1m);
        await budget.SettleAsync("a", 1m);
        Assert.Equal(ReservationOutcome.Exceeded, (await budget.ReserveAsync("b", 1m)).Outcome);

        ClusterFixture.Time.Advance(TimeSpan.FromDays(1));

        var snapshot = await budget.GetAsync();
        Assert.Equal(0m, snapshot.SpentUsd);
        Assert.Equal(ReservationOutcome.Granted, (await budget.ReserveAsync("b", 1m)).Outcome);
    }

    [Fact]
    public async Task Negative_amounts_are_refused()
    {
        var budget = await NewBudgetAsync(1m);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => budget.ReserveAsync("a", -1m));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => budget.ConfigureAsync(new BudgetSettings(-1m, BudgetPeriod.Day)));
    }
}
