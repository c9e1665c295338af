using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.IntegrationTests.Infrastructure;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>What the platform stores survives a full restart: silo and Azurite, both stopped cleanly.</summary>
public sealed class DurabilityTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Apps_keys_and_spend_survive_a_restart_of_the_silo_and_of_azurite()
    {
        var serviceId = TestEnvironment.NewId("svc");
        var clusterId = TestEnvironment.NewId("cluster");
        var appId = TestEnvironment.NewId("durable");
        var manifest = new AppManifest("Durable app", "owner@example.org", "finance", Audience.Internal, ["email"],
            ["local"], "local", new AppQuotas(0, 0), "", "v1");

        IssuedKey key;
        string budgetId;
        BudgetSnapshot before;
        await using (var silo = await SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId))
        {
            await using var client = await ClusterClient.ConnectAsync(storage.ConnectionString, clusterId, serviceId);
            var app = client.Grains.GetGrain<IMicroAppGrain>(appId);
            var created = await app.CreateAsync(manifest);
            budgetId = created.EffectiveBudgetId;
            key = await app.IssueKeyAsync("integration");
            var budget = client.Grains.GetGrain<IBudgetGrain>(budgetId);
            await budget.ConfigureAsync(new BudgetSettings(5m, BudgetPeriod.Month));
            Assert.Equal(ReservationOutcome.Granted, (await budget.ReserveAsync($"{appId}/req-1", 0.40m)).Outcome);
            Assert.Equal(SettleOutcome.Settled, (await budget.SettleAsync($"{appId}/req-1", 0.25m)).Outcome);
            Assert.Equal(ReservationOutcome.Granted, (await budget.ReserveAsync($"{appId}/req-2", 0.10m)).Outcome);
            before = await budget.GetAsync();

            await silo.StopAsync();
            Assert.Equal(0, silo.ExitCode);
        }

        await storage.Azurite.RestartAsync();

        await using (var silo = await SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId))
        {
            await using var client = await ClusterClient.ConnectAsync(storage.ConnectionString, clusterId, serviceId);
            var app = client.Grains.GetGrain<IMicroAppGrain>(appId);
            var info = await app.GetAsync();
            Assert.NotNull(info);
            Assert.Equal(manifest.Name, info.Manifest.Name);
            Assert.Equal(key.KeyId, Assert.Single(info.Keys).KeyId);

            Assert.True(ApiKeys.TryParse(key.ApiKey, out _, out var keyId, out var secret));
            var admission = await app.AdmitAsync(new AdmissionRequest(keyId, secret, 100));
            Assert.Equal(AdmissionOutcome.Admitted, admission.Outcome);
            var wrongSecret = await app.AdmitAsync(new AdmissionRequest(keyId, secret + "x", 100));
            Assert.Equal(AdmissionOutcome.InvalidKey, wrongSecret.Outcome);

            var budget = client.Grains.GetGrain<IBudgetGrain>(budgetId);
            var after = await budget.GetAsync();
            Assert.Equal(0.25m, after.SpentUsd);
            Assert.Equal(before.SpentUsd, after.SpentUsd);
            Assert.Equal(before.ReservedUsd, after.ReservedUsd);
            Assert.Equal(5m, after.LimitUsd);

            // The settled request is still known, so a late retry cannot charge it again.
            Assert.Equal(SettleOutcome.AlreadySettled, (await budget.SettleAsync($"{appId}/req-1", 0.25m)).Outcome);
            Assert.Equal(SettleOutcome.Settled, (await budget.SettleAsync($"{appId}/req-2", 0.05m)).Outcome);
            Assert.Equal(0.30m, (await budget.GetAsync()).SpentUsd);
        }
    }

    [Fact]
    public async Task Silo_with_an_unparsable_connection_string_stops_with_one_line_naming_the_setting()
    {
        var silo = SiloProcess.Launch(new Dictionary<string, string>
        {
            ["Storage__ConnectionString"] = "AccountName=devstoreaccount1;this is not a connection string",
            ["Orleans__ClusterId"] = TestEnvironment.NewId("cluster"),
            ["Orleans__ServiceId"] = TestEnvironment.NewId("svc"),
        });
        await using (silo)
        {
            var exitCode = await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(2, exitCode);
            var lines = silo.OutputTail.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
            var line = Assert.Single(lines);
            Assert.StartsWith("silo: configuration error:", line);
            Assert.Contains("Storage:ConnectionString", line);
        }
    }
}
