using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.IntegrationTests.Infrastructure;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>A front door (an Orleans client) may start before any silo: it keeps retrying, within a bound.</summary>
public sealed class ClientStartupTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_client_started_before_any_silo_keeps_retrying_and_connects_once_a_silo_is_up()
    {
        var serviceId = TestEnvironment.NewId("svc");
        var clusterId = TestEnvironment.NewId("cluster");
        var retrying = new LogSignal("No Orleans gateway answered yet");

        var connecting = ClusterClient.ConnectAsync(storage.ConnectionString, clusterId, serviceId, retrying);
        await Task.WhenAny(retrying.Seen, connecting).WaitAsync(TimeSpan.FromSeconds(60));

        // With no silo the first attempt failed and the client is retrying, neither connected nor given up.
        Assert.True(retrying.Seen.IsCompleted, $"the client did not report a retry ({connecting.Status})");
        Assert.False(connecting.IsCompleted, $"the client stopped trying while no silo existed ({connecting.Status})");

        await using var silo = await SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId);
        await using var client = await connecting.WaitAsync(TimeSpan.FromSeconds(60));
        var budget = await client.Grains.GetGrain<IBudgetGrain>(TestEnvironment.NewId("app:early")).GetAsync();
        Assert.False(budget.Configured);
    }
}
