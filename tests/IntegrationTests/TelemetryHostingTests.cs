using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Hosting;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>Telemetry on the silo's generic host: the Prometheus listener and its settings.</summary>
public sealed class TelemetryHostingTests
{
    private static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    [Theory]
    [InlineData("Telemetry:Prometheus:Port", "0")]
    [InlineData("Telemetry:Prometheus:Port", "65536")]
    [InlineData("Telemetry:Prometheus:Port", "ninety")]
    [InlineData("Telemetry:Prometheus:Host", " ")]
    [InlineData("Telemetry:Prometheus:ScrapeEndpointPath", "metrics")]
    [InlineData("Telemetry:Prometheus:ScrapeToken", "a-token-a-silo-cannot-check")]
    [InlineData("Telemetry:Prometheus:Enabled", "yes please")]
    [InlineData("Telemetry:Exporter", "prometheus")]
    [InlineData("Telemetry:Metrics:PerAppSeriesCap", "-1")]
    public void A_bad_prometheus_setting_stops_the_silo_while_building_naming_it(string key, string value)
    {
        var builder = Builder(new() { ["Telemetry:Prometheus:Enabled"] = "true", [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => builder.AddMicroAppsTelemetry("test"));

        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void A_port_that_is_not_used_is_not_judged()
    {
        var builder = Builder(new() { ["Telemetry:Prometheus:Port"] = "0" });

        builder.AddMicroAppsTelemetry("test");
    }

    [Fact]
    public async Task The_silo_executable_exits_2_with_one_line_naming_a_bad_prometheus_port()
    {
        var silo = SiloProcess.Launch(new Dictionary<string, string>
        {
            ["Storage__ConnectionString"] = "UseDevelopmentStorage=true",
            ["Orleans__ClusterId"] = TestEnvironment.NewId("cluster"),
            ["Orleans__ServiceId"] = TestEnvironment.NewId("svc"),
            ["Telemetry__Prometheus__Enabled"] = "true",
            ["Telemetry__Prometheus__Port"] = "70000",
        });
        await using (silo)
        {
            var exitCode = await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(2, exitCode);
            var line = Assert.Single(silo.OutputTail.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("silo: configuration error:", line);
            Assert.Contains("Telemetry:Prometheus:Port 70000", line);
        }
    }

    [Fact]
    public async Task A_silo_with_prometheus_enabled_serves_its_metrics_on_the_listener_port()
    {
        var port = TestEnvironment.FreePort();
        var builder = Builder(new()
        {
            ["Orleans:Provider"] = "Localhost",
            ["Orleans:ClusterId"] = TestEnvironment.NewId("prom"),
            ["Orleans:SiloPort"] = TestEnvironment.FreePort().ToString(),
            ["Orleans:GatewayPort"] = TestEnvironment.FreePort().ToString(),
            ["Telemetry:Prometheus:Enabled"] = "true",
            ["Telemetry:Prometheus:Host"] = "localhost",
            ["Telemetry:Prometheus:Port"] = port.ToString(),
            ["Telemetry:Prometheus:ScrapeEndpointPath"] = "/silo-metrics",
        });
        builder.AddMicroAppsSilo().AddMicroAppsTelemetry("test");
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            // A key that names no app: refused by admission, and still counted (under "_unauthenticated").
            var gateway = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IGovernedCallGrain>(0);
            var result = await gateway.CompleteAsync(new GovernedChatRequest(
                "mak.no-such-app.k1.secret", Guid.NewGuid().ToString("N"), "auto", [new ChatTurn("user", "hello")], ChatParameters.None));
            Assert.Equal(GovernedOutcome.Unauthorized, result.Outcome);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using var scrape = await http.GetAsync($"http://localhost:{port}/silo-metrics");
            var text = await scrape.Content.ReadAsStringAsync();

            Assert.Equal(System.Net.HttpStatusCode.OK, scrape.StatusCode);
            Assert.Contains(text.Split('\n'), line => line.StartsWith("microapps_gateway_requests_total{", StringComparison.Ordinal)
                                                     && line.Contains($"app=\"{GatewayMetrics.Unauthenticated}\"")
                                                     && line.Contains("outcome=\"unauthorized\""));
            Assert.Contains("# TYPE orleans_catalog_activations gauge", text);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
