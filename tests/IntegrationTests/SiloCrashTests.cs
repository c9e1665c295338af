using System.Collections.Concurrent;
using System.Diagnostics;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>A silo is killed with SIGKILL under load; acknowledged spend must survive and retries must not double-charge.</summary>
public sealed class SiloCrashTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Workers = 24;
    private const int Requests = 600;
    private const int KillAfterCompleted = 150;
    private static readonly TimeSpan RetryDeadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Acknowledged_settles_survive_a_silo_killed_mid_load_and_retried_settles_charge_once()
    {
        var serviceId = TestEnvironment.NewId("svc");
        var clusterId = TestEnvironment.NewId("cluster");
        var budgetId = TestEnvironment.NewId("team:crash");
        var silos = await Task.WhenAll(
            SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId),
            SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId));
        await using var silo1 = silos[0];
        await using var silo2 = silos[1];

        var acknowledged = new ConcurrentDictionary<string, SettleResult>();
        var completionOrder = new ConcurrentQueue<string>();
        var retries = 0;
        var completed = 0;
        var completedAfterKill = 0;
        var issued = 0;
        var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = false;
        SiloProcess victim;

        await using (var client = await ClusterClient.ConnectAsync(storage.ConnectionString, clusterId, serviceId))
        {
            var budget = client.Grains.GetGrain<IBudgetGrain>(budgetId);
            await budget.ConfigureAsync(new BudgetSettings(1_000_000m, BudgetPeriod.Month));

            // Kill the silo that hosts the budget, so the crash takes its activation and its in-flight writes with it.
            var host = await client.Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(budget);
            Assert.NotNull(host);
            victim = silos.Single(s => s.SiloPort == host.Endpoint.Port);
            output.WriteLine($"budget {budgetId} is on {host}; that silo will be killed");

            async Task<T> WithRetriesAsync<T>(Func<Task<T>> call)
            {
                var deadline = Stopwatch.StartNew();
                while (true)
                {
                    try
                    {
                        return await call();
                    }
                    catch (Exception ex) when (deadline.Elapsed < RetryDeadline)
                    {
                        // Rejections, timeouts and storage conflicts while the cluster notices the dead silo:
                        // the caller retries with the same request id, which is what makes the retry safe.
                        Interlocked.Increment(ref retries);
                        output.WriteLine($"retry after {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
                        await Task.Delay(200);
                    }
                }
            }

            async Task WorkerAsync(int worker)
            {
                int n;
                while ((n = Interlocked.Increment(ref issued)) <= Requests)
                {
                    var requestId = $"crash-app/w{worker}-r{n}";
                    var estimate = 0.001m * (1 + n % 9);
                    var reservation = await WithRetriesAsync(() => budget.ReserveAsync(requestId, estimate));
                    Assert.True(reservation.IsGranted, $"{requestId}: {reservation.Outcome} {reservation.Reason}");

                    var settle = await WithRetriesAsync(() => budget.SettleAsync(requestId, estimate / 2));
                    Assert.True(settle.Outcome is SettleOutcome.Settled or SettleOutcome.AlreadySettled, $"{requestId}: {settle.Outcome}");
                    Assert.Equal(estimate / 2, settle.ChargedUsd);
                    Assert.True(acknowledged.TryAdd(requestId, settle));
                    completionOrder.Enqueue(requestId);

                    if (Volatile.Read(ref killed))
                    {
                        Interlocked.Increment(ref completedAfterKill);
                    }

                    if (Interlocked.Increment(ref completed) == KillAfterCompleted)
                    {
                        killNow.TrySetResult();
                    }
                }
            }

            var load = Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(() => WorkerAsync(w))));
            await Task.WhenAny(killNow.Task, load);
            Assert.True(killNow.Task.IsCompleted, "the load ended before the kill point");
            victim.Kill();
            Volatile.Write(ref killed, true);
            var completedAtKill = Volatile.Read(ref completed);
            var sw = Stopwatch.StartNew();
            await load;
            output.WriteLine($"killed at {completedAtKill} completed; load finished {sw.Elapsed} later with {retries} retries");

            Assert.Equal(Requests, acknowledged.Count);
            Assert.True(completedAtKill < Requests, "the silo was killed after the load had finished");
            Assert.True(completedAfterKill > 0, "nothing completed after the kill");
            Assert.True(retries > 0, "no call failed, so the crash was not exercised");

            var expected = acknowledged.Values.Sum(s => s.ChargedUsd);
            var afterCrash = await WithRetriesAsync(() => budget.GetAsync());
            output.WriteLine($"acknowledged ${expected}, spent ${afterCrash.SpentUsd}, " +
                $"{acknowledged.Values.Count(s => s.Outcome == SettleOutcome.AlreadySettled)} settles were answered AlreadySettled on retry");
            Assert.True(afterCrash.SpentUsd >= expected, $"acknowledged spend was lost: spent {afterCrash.SpentUsd} < {expected}");
            Assert.Equal(expected, afterCrash.SpentUsd);
            Assert.Equal(0m, afterCrash.ReservedUsd);
            Assert.Equal(0, afterCrash.ReservationsInFlight);
        }

        // Restart the survivor too: a fresh cluster (the killed silo's row is still Active in the old one) on the same service id.
        var survivor = silos.Single(s => s != victim);
        await survivor.StopAsync();
        var freshClusterId = TestEnvironment.NewId("cluster");
        await using var fresh = await SiloProcess.StartAsync(storage.ConnectionString, freshClusterId, serviceId);
        await using var freshClient = await ClusterClient.ConnectAsync(storage.ConnectionString, freshClusterId, serviceId);
        var reloaded = await freshClient.Grains.GetGrain<IBudgetGrain>(budgetId).GetAsync();
        Assert.Equal(acknowledged.Values.Sum(s => s.ChargedUsd), reloaded.SpentUsd);
        Assert.Equal(0m, reloaded.ReservedUsd);

        // Every request id is closed for good: retrying any settle now charges nothing. The budget
        // remembers the most recent ids (Budgets:ClosedRequestIdsRetained, 256) and answers those
        // "already settled"; older ones are no longer open reservations, so they charge nothing either.
        var order = completionOrder.ToArray();
        foreach (var requestId in order[^20..])
        {
            var again = await freshClient.Grains.GetGrain<IBudgetGrain>(budgetId).SettleAsync(requestId, 1m);
            Assert.Equal(SettleOutcome.AlreadySettled, again.Outcome);
        }

        foreach (var requestId in order[..20])
        {
            var again = await freshClient.Grains.GetGrain<IBudgetGrain>(budgetId).SettleAsync(requestId, 1m);
            Assert.NotEqual(SettleOutcome.Settled, again.Outcome);
        }

        Assert.Equal(reloaded.SpentUsd, (await freshClient.Grains.GetGrain<IBudgetGrain>(budgetId).GetAsync()).SpentUsd);
    }
}
