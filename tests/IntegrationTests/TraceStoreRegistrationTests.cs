using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Hosting;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>Which trace store a silo gets, and the trace options checked at start.</summary>
public sealed class TraceStoreRegistrationTests
{
    private const string AzuriteStyleConnection =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        "TableEndpoint=http://127.0.0.1:1/devstoreaccount1;";

    private static IHost Silo(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings)
        {
            ["Orleans:ClusterId"] = TestEnvironment.NewId("cluster"),
            ["Orleans:SiloPort"] = TestEnvironment.FreePort().ToString(),
            ["Orleans:GatewayPort"] = TestEnvironment.FreePort().ToString(),
        });
        builder.AddMicroAppsSilo();
        return builder.Build();
    }

    [Fact]
    public void A_silo_on_azure_storage_stores_traces_in_azure_tables_and_both_sinks_are_awaited()
    {
        using var host = Silo(new()
        {
            ["Orleans:Provider"] = "AzureStorage",
            ["Orleans:AdvertisedIp"] = "127.0.0.1",
            ["Storage:ConnectionString"] = AzuriteStyleConnection,
            ["Telemetry:Traces:TablePrefix"] = "tenantA",
        });

        var store = Assert.IsType<AzureTableTraceStore>(host.Services.GetRequiredService<ITraceStore>());
        Assert.Equal(["tenantAevents", "tenantArequests", "tenantAsamples"], store.TableNames);
        var sinks = host.Services.GetServices<ITraceSink>().Select(s => s.GetType()).ToList();
        Assert.Equal([typeof(InMemoryTraceSink), typeof(TraceWriter)], sinks);
    }

    [Fact]
    public void A_localhost_silo_keeps_traces_in_memory()
    {
        using var host = Silo(new() { ["Orleans:Provider"] = "Localhost" });

        Assert.IsType<InMemoryTraceStore>(host.Services.GetRequiredService<ITraceStore>());
    }

    [Fact]
    public void Invalid_trace_settings_stop_the_silo_at_start_naming_the_setting()
    {
        using var host = Silo(new()
        {
            ["Orleans:Provider"] = "Localhost",
            ["Telemetry:Traces:MaxBatch"] = "0",
            ["Telemetry:Traces:TablePrefix"] = "bad_prefix",
        });

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Telemetry:Traces:MaxBatch", error.Message);
        Assert.Contains("Telemetry:Traces:TablePrefix", error.Message);
    }
}
