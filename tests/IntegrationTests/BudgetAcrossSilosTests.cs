using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.IntegrationTests.Infrastructure;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>Budget invariants with two silo processes on Azurite (Azure Table clustering and grain state).</summary>
public sealed class BudgetAcrossSilosTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IAsyncLifetime
{
    private readonly string _serviceId = TestEnvironment.NewId("svc");
    private readonly string _clusterId = TestEnvironment.NewId("cluster");
    private SiloProcess _silo1 = null!;
    private SiloProcess _silo2 = null!;

    public async Task InitializeAsync()
    {
        var starting = new[]
        {
            SiloProcess.StartAsync(storage.ConnectionString, _clusterId, _serviceId),
            SiloProcess.StartAsync(storage.ConnectionString, _clusterId, _serviceId),
        };
        var silos = await Task.WhenAll(starting);
        (_silo1, _silo2) = (silos[0], silos[1]);
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_silo1.DisposeAsync().AsTask(), _silo2.DisposeAsync().AsTask());
    }

    [Fact]
    public async Task Concurrent_reservations_through_both_silos_grant_exactly_what_fits_and_settle_to_the_limit()
    {
        await using var viaSilo1 = await ClusterClient.ConnectThroughAsync(_silo1, _clusterId, _serviceId);
        await using var viaSilo2 = await ClusterClient.ConnectThroughAsync(_silo2, _clusterId, _serviceId);
        var budgetId = TestEnvironment.NewId("team:race");
        const decimal amount = 0.01m;
        const decimal limit = 100 * amount;
        await viaSilo1.Grains.GetGrain<IBudgetGrain>(budgetId).ConfigureAsync(new BudgetSettings(limit, BudgetPeriod.Month));

        var results = await Task.WhenAll(Enumerable.Range(0, 500).Select(i =>
        {
            var client = i % 2 == 0 ? viaSilo1 : viaSilo2;
            var requestId = $"race-app/req-{i}";
            return client.Grains.GetGrain<IBudgetGrain>(budgetId).ReserveAsync(requestId, amount)
                .ContinueWith(t => (RequestId: requestId, Result: t.Result), TaskScheduler.Default);
        }));

        var granted = results.Where(r => r.Result.Outcome == ReservationOutcome.Granted).ToList();
        Assert.Equal(100, granted.Count);
        Assert.Equal(400, results.Count(r => r.Result.Outcome == ReservationOutcome.Exceeded));
        Assert.All(results, r => Assert.True(r.Result.Budget.SpentUsd + r.Result.Budget.ReservedUsd <= limit));

        var settled = await Task.WhenAll(granted.Select((g, i) =>
            (i % 2 == 0 ? viaSilo2 : viaSilo1).Grains.GetGrain<IBudgetGrain>(budgetId).SettleAsync(g.RequestId, amount)));
        Assert.All(settled, s => Assert.Equal(SettleOutcome.Settled, s.Outcome));
        Assert.All(settled, s => Assert.True(s.Budget.SpentUsd <= limit, $"spent {s.Budget.SpentUsd} passed the limit {limit}"));

        var budget = await viaSilo2.Grains.GetGrain<IBudgetGrain>(budgetId).GetAsync();
        Assert.Equal(limit, budget.SpentUsd);
        Assert.Equal(0m, budget.ReservedUsd);
        Assert.Equal(0, budget.ReservationsInFlight);

        var oneMore = await viaSilo1.Grains.GetGrain<IBudgetGrain>(budgetId).ReserveAsync("race-app/one-more", amount);
        Assert.Equal(ReservationOutcome.Exceeded, oneMore.Outcome);
    }

    [Fact]
    public async Task Settle_repeated_with_the_same_request_id_through_different_silos_charges_once()
    {
        await using var viaSilo1 = await ClusterClient.ConnectThroughAsync(_silo1, _clusterId, _serviceId);
        await using var viaSilo2 = await ClusterClient.ConnectThroughAsync(_silo2, _clusterId, _serviceId);
        var budgetId = TestEnvironment.NewId("app:twice");
        var fromSilo1 = viaSilo1.Grains.GetGrain<IBudgetGrain>(budgetId);
        var fromSilo2 = viaSilo2.Grains.GetGrain<IBudgetGrain>(budgetId);
        await fromSilo1.ConfigureAsync(new BudgetSettings(10m, BudgetPeriod.Day));
        var reserved = await fromSilo1.ReserveAsync("twice/req-1", 0.50m);
        Assert.Equal(ReservationOutcome.Granted, reserved.Outcome);

        // The same settle arrives several times at once through both gateways, as retries after a timeout would.
        var settles = await Task.WhenAll(
            fromSilo1.SettleAsync("twice/req-1", 0.30m),
            fromSilo2.SettleAsync("twice/req-1", 0.30m),
            fromSilo1.SettleAsync("twice/req-1", 0.30m),
            fromSilo2.SettleAsync("twice/req-1", 0.30m));

        Assert.Equal(1, settles.Count(s => s.Outcome == SettleOutcome.Settled));
        Assert.Equal(3, settles.Count(s => s.Outcome == SettleOutcome.AlreadySettled));
        Assert.All(settles, s => Assert.Equal(0.30m, s.ChargedUsd));

        var later = await fromSilo2.SettleAsync("twice/req-1", 0.30m);
        Assert.Equal(SettleOutcome.AlreadySettled, later.Outcome);
        var budget = await fromSilo2.GetAsync();
        Assert.Equal(0.30m, budget.SpentUsd);
        Assert.Equal(0m, budget.ReservedUsd);

        var reReserve = await fromSilo2.ReserveAsync("twice/req-1", 0.50m);
        Assert.Equal(ReservationOutcome.AlreadyClosed, reReserve.Outcome);
    }
}
