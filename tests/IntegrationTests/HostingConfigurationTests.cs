using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Hosting;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>The hosting extensions in-process: bad settings are named at build time; Localhost mode runs a silo with memory storage.</summary>
public sealed class HostingConfigurationTests
{
    private static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    [Theory]
    [InlineData("Storage:ConnectionString", "not a connection string", "Storage:ConnectionString")]
    [InlineData("Storage:ConnectionString", "", "Storage:ConnectionString is required")]
    [InlineData("Orleans:SiloPort", "0", "Orleans:SiloPort")]
    [InlineData("Orleans:GatewayPort", "65536", "Orleans:GatewayPort")]
    [InlineData("Orleans:GatewayPort", "thirty", "Orleans:GatewayPort")]
    [InlineData("Orleans:ClusterId", " ", "Orleans:ClusterId")]
    [InlineData("Orleans:ServiceId", "", "Orleans:ServiceId")]
    [InlineData("Orleans:Provider", "Consul", "Orleans:Provider")]
    public void A_bad_setting_stops_the_silo_while_building_with_a_message_naming_it(string key, string value, string expected)
    {
        var builder = Builder(new()
        {
            ["Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            [key] = value,
        });

        var error = Assert.Throws<OptionsValidationException>(() => builder.AddMicroAppsSilo());
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("Telemetry:Exporter", "zipkin")]
    [InlineData("Telemetry:OtlpEndpoint", "not a uri")]
    public void A_bad_telemetry_setting_is_named(string key, string value)
    {
        var builder = Builder(new() { [key] = value });
        var error = Assert.Throws<OptionsValidationException>(() => builder.AddMicroAppsTelemetry("test"));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void The_client_checks_the_connection_string_too()
    {
        var builder = Builder(new() { ["Storage:ConnectionString"] = "AccountName=x;garbage" });
        var error = Assert.Throws<OptionsValidationException>(() => builder.AddMicroAppsClient());
        Assert.Contains("Storage:ConnectionString", error.Message);
    }

    [Fact]
    public async Task Localhost_mode_runs_a_silo_with_memory_storage_and_no_connection_string()
    {
        var builder = Builder(new()
        {
            ["Orleans:Provider"] = "Localhost",
            ["Orleans:ClusterId"] = TestEnvironment.NewId("local"),
            ["Orleans:SiloPort"] = TestEnvironment.FreePort().ToString(),
            ["Orleans:GatewayPort"] = TestEnvironment.FreePort().ToString(),
        });
        builder.AddMicroAppsSilo().AddMicroAppsTelemetry("test");
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var budget = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IBudgetGrain>("app:localhost-mode");
            await budget.ConfigureAsync(new BudgetSettings(1m, BudgetPeriod.Day));
            Assert.Equal(ReservationOutcome.Granted, (await budget.ReserveAsync("localhost-mode/1", 0.5m)).Outcome);
            Assert.Equal(ReservationOutcome.Exceeded, (await budget.ReserveAsync("localhost-mode/2", 0.6m)).Outcome);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
