using Microsoft.Extensions.Hosting;

namespace MicroApps.Orleans.Hosting;

/// <summary>
/// Wiring shared by the silo host and the front door. Configuration keys:
/// <c>Orleans:ClusterId</c>, <c>Orleans:ServiceId</c>, <c>Orleans:Provider</c> (<c>AzureStorage</c> or
/// <c>Localhost</c> for development: localhost clustering and memory storage), <c>Orleans:SiloPort</c>,
/// <c>Orleans:GatewayPort</c>, <c>Orleans:AdvertisedIp</c>, <c>Storage:ConnectionString</c>,
/// <c>Telemetry:Exporter</c> (<c>none</c>, <c>console</c>, <c>otlp</c>), <c>Telemetry:OtlpEndpoint</c>.
/// </summary>
public static class MicroAppsHosting
{
    /// <summary>Runs a silo in this process with the grains, their storage and clustering.</summary>
    public static IHostApplicationBuilder AddMicroAppsSilo(this IHostApplicationBuilder builder) =>
        throw new NotSupportedException("filled in by the hosting work");

    /// <summary>Connects this process to the cluster as an Orleans client.</summary>
    public static IHostApplicationBuilder AddMicroAppsClient(this IHostApplicationBuilder builder) =>
        throw new NotSupportedException("filled in by the hosting work");

    /// <summary>OpenTelemetry metrics and traces (Orleans meter and activity sources) with the configured exporter.</summary>
    public static IHostApplicationBuilder AddMicroAppsTelemetry(this IHostApplicationBuilder builder, string serviceName) =>
        throw new NotSupportedException("filled in by the hosting work");
}
