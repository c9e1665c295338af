using System.Collections.Concurrent;
using System.Net;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>
/// Budget alerts on Azurite with two silo processes: raised once across silos, stored in the outbox, and delivered by
/// the reminder after every silo was killed.
/// </summary>
public sealed class AlertDeliveryAcrossCrashTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static readonly Dictionary<string, string> FastRetries = new()
    {
        ["Alerts__Webhook__BaseDelay"] = "00:00:00.200",
        ["Alerts__Webhook__MaxDelay"] = "00:00:01",
        ["Alerts__Webhook__MaxAttempts"] = "50",
        ["Alerts__Webhook__UseJitter"] = "false",
    };

    [Fact]
    public async Task An_alert_raised_once_across_silos_is_delivered_after_every_silo_was_killed()
    {
        var serviceId = TestEnvironment.NewId("svc");
        var clusterId = TestEnvironment.NewId("cluster");
        await using var receiver = await Receiver.StartAsync();
        var silos = await Task.WhenAll(
            SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId, FastRetries),
            SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId, FastRetries));
        var budgetId = TestEnvironment.NewId("team:alerts");
        try
        {
            await using (var via1 = await ClusterClient.ConnectThroughAsync(silos[0], clusterId, serviceId))
            await using (var via2 = await ClusterClient.ConnectThroughAsync(silos[1], clusterId, serviceId))
            {
                await via1.Grains.GetGrain<IBudgetGrain>(budgetId).ConfigureAsync(
                    new BudgetSettings(1m, BudgetPeriod.Month) { Thresholds = [0.6m], Notify = new AlertTargets(receiver.Url, []) });
                var ids = Enumerable.Range(0, 10).Select(i => $"app/req-{i}").ToArray();
                foreach (var id in ids)
                {
                    Assert.True((await via1.Grains.GetGrain<IBudgetGrain>(budgetId).ReserveAsync(id, 0.1m)).IsGranted);
                }

                // Every settle through both silos at once: retries of each other.
                await Task.WhenAll(ids.SelectMany(id => new[]
                {
                    via1.Grains.GetGrain<IBudgetGrain>(budgetId).SettleAsync(id, 0.1m),
                    via2.Grains.GetGrain<IBudgetGrain>(budgetId).SettleAsync(id, 0.1m),
                }));

                // The receiver refuses; wait until the outbox is retrying it.
                await WaitUntilAsync(() => receiver.Received.Count >= 2, TimeSpan.FromSeconds(60), "the outbox to retry the webhook");
            }

            foreach (var silo in silos)
            {
                silo.Kill();
            }
        }
        finally
        {
            await Task.WhenAll(silos.Select(s => s.DisposeAsync().AsTask()));
        }

        // A new cluster of the same service: nobody calls the outbox; its reminder must wake it.
        receiver.Accept = true;
        var afterCrash = TestEnvironment.NewId("cluster");
        await using var restarted = await SiloProcess.StartAsync(storage.ConnectionString, afterCrash, serviceId, FastRetries);
        await WaitUntilAsync(() => receiver.Accepted > 0, TimeSpan.FromMinutes(4), "the reminder to resume the delivery");

        await using var client = await ClusterClient.ConnectThroughAsync(restarted, afterCrash, serviceId);
        var alerts = await client.Grains.GetGrain<IBudgetGrain>(budgetId).GetAlertsAsync();
        var alert = Assert.Single(alerts);
        Assert.Equal(0.6m, alert.Alert.Threshold);
        Assert.Equal(AlertState.Delivered, alert.State);
        Assert.Single(receiver.Received.Select(r => r).Distinct());
        Assert.All(receiver.Received, id => Assert.Equal(alert.Alert.AlertId, id));
        Assert.True(alert.Deliveries.Single().Attempts >= 3);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }

    /// <summary>A webhook receiver on 127.0.0.1 that answers 503 until <see cref="Accept"/> is set.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _accepted;

        private Receiver(WebApplication app) => _app = app;

        public string Url { get; private set; } = "";

        public volatile bool Accept;

        public ConcurrentQueue<string> Received { get; } = new();

        public int Accepted => Volatile.Read(ref _accepted);

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/hook", (HttpContext context) =>
            {
                receiver.Received.Enqueue(context.Request.Headers["X-MicroApps-Alert-Id"].ToString());
                if (!receiver.Accept)
                {
                    return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
                }

                Interlocked.Increment(ref receiver._accepted);
                return Results.NoContent();
            });
            await app.StartAsync();
            receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/hook";
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
