using Azure.Data.Tables;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Serialization;
using Orleans.Storage;

namespace MicroApps.Orleans.Hosting;

/// <summary>
/// Wiring shared by the silo host and the front door. Configuration keys:
/// <c>Orleans:ClusterId</c>, <c>Orleans:ServiceId</c>, <c>Orleans:Provider</c> (<c>AzureStorage</c> or
/// <c>Localhost</c> for development: localhost clustering and memory storage), <c>Orleans:SiloPort</c>,
/// <c>Orleans:GatewayPort</c>, <c>Orleans:AdvertisedIp</c>, <c>Orleans:ClientConnectTimeout</c>,
/// <c>Orleans:ShutdownTimeout</c>, <c>Storage:ConnectionString</c>,
/// <c>Telemetry:Exporter</c> (<c>none</c>, <c>console</c>, <c>otlp</c>), <c>Telemetry:OtlpEndpoint</c>,
/// <c>Telemetry:Prometheus:{Enabled, ScrapeEndpointPath, Port, Host, ScrapeToken}</c>, <c>Telemetry:Metrics:PerAppSeriesCap</c>.
/// </summary>
public static class MicroAppsHosting
{
    /// <summary>Grain storage provider name every grain uses.</summary>
    public const string StorageProviderName = "store";

    /// <summary>Meter and activity source of the platform's own instruments.</summary>
    public const string InstrumentationName = GatewayMetrics.MeterName;

    /// <summary>Runs a silo in this process with the grains, their storage and clustering.</summary>
    public static IHostApplicationBuilder AddMicroAppsSilo(this IHostApplicationBuilder builder)
    {
        var orleans = builder.AddOrleansHostOptions();
        if (orleans.UsesAzureStorage)
        {
            builder.AddStorageOptions();
        }

        var advertised = ResolveAdvertisedAddress(orleans);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = orleans.ShutdownTimeout);
        builder.Services.AddMicroAppsGrains(builder.Configuration);
        if (orleans.UsesAzureStorage)
        {
            // Trace events go to the same storage account as grain state (AddMicroAppsGrains' default keeps them in memory).
            builder.Services.Replace(ServiceDescriptor.Singleton<ITraceStore>(sp => new AzureTableTraceStore(
                new TableServiceClient(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString, AzureTableTraceStore.ClientOptions()),
                sp.GetRequiredService<IOptions<TraceWriterOptions>>(),
                sp.GetRequiredService<ILogger<AzureTableTraceStore>>(),
                sp.GetRequiredKeyedService<TimeProvider>(PlatformClock.Key))));
        }

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = orleans.ClusterId;
                o.ServiceId = orleans.ServiceId;
            });

            if (orleans.UsesAzureStorage)
            {
                silo.Configure<EndpointOptions>(o =>
                {
                    o.SiloPort = orleans.SiloPort;
                    o.GatewayPort = orleans.GatewayPort;
                    o.AdvertisedIPAddress = advertised;
                });

                // The connection string was validated while building (AddValidatedOptions), so this cannot throw.
                silo.UseAzureStorageClustering(ob => ob.Configure<IOptions<StorageOptions>>(
                    (o, storage) => o.TableServiceClient = new TableServiceClient(storage.Value.ConnectionString)));
                silo.AddAzureTableGrainStorage(StorageProviderName, ob => ob.Configure<IOptions<StorageOptions>, Serializer>(
                    (o, storage, serializer) =>
                    {
                        o.TableServiceClient = new TableServiceClient(storage.Value.ConnectionString);
                        // The Orleans binary form: the [Id] attributes on state records define what is stored,
                        // so renaming a property never loses data.
                        o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                    }));

                // Budget alert outboxes wake from a reminder after a deactivation or a silo failure.
                silo.UseAzureTableReminderService(ob => ob.Configure<IOptions<StorageOptions>>(
                    (o, storage) => o.TableServiceClient = new TableServiceClient(storage.Value.ConnectionString)));
            }
            else
            {
                silo.UseLocalhostClustering(orleans.SiloPort, orleans.GatewayPort);
                silo.AddMemoryGrainStorage(StorageProviderName);
                silo.UseInMemoryReminderService();
            }

            silo.AddActivityPropagation();
            silo.AddDashboard();
        });

        return builder;
    }

    private static System.Net.IPAddress ResolveAdvertisedAddress(OrleansHostOptions orleans)
    {
        try
        {
            return orleans.ResolveAdvertisedAddress();
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or InvalidOperationException or ArgumentException)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(OrleansHostOptions),
                [$"Orleans:AdvertisedIp '{orleans.AdvertisedIp}' cannot be resolved: {ex.Message}"]);
        }
    }

    /// <summary>Connects this process to the cluster as an Orleans client.</summary>
    public static IHostApplicationBuilder AddMicroAppsClient(this IHostApplicationBuilder builder)
    {
        var orleans = builder.AddOrleansHostOptions();
        if (orleans.UsesAzureStorage)
        {
            builder.AddStorageOptions();
        }

        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = orleans.ClusterId;
                o.ServiceId = orleans.ServiceId;
            });

            if (orleans.UsesAzureStorage)
            {
                client.UseAzureStorageClustering(ob => ob.Configure<IOptions<StorageOptions>>(
                    (o, storage) => o.TableServiceClient = new TableServiceClient(storage.Value.ConnectionString)));
            }
            else
            {
                client.UseLocalhostClustering(orleans.GatewayPort);
            }

            client.AddActivityPropagation();
            client.AddDashboard();
            client.UseConnectionRetryFilter<BoundedConnectionRetryFilter>();
        });

        return builder;
    }

    /// <summary>
    /// OpenTelemetry metrics and traces with the configured exporter (<c>Telemetry:Exporter</c>), plus a Prometheus
    /// scrape endpoint when <c>Telemetry:Prometheus:Enabled</c>: on an ASP.NET Core host it is served by the app itself
    /// (map it with <see cref="MapMicroAppsTelemetry"/>), on a generic host (the silo) by a listener on
    /// <c>Telemetry:Prometheus:Port</c>. Metrics: meters <c>Microsoft.Orleans</c> and <c>MicroApps.Orleans</c> and ASP.NET
    /// Core's; traces: sources <c>Microsoft.Orleans.Runtime</c>, <c>Microsoft.Orleans.Application</c>,
    /// <c>MicroApps.Orleans</c> and ASP.NET Core's. See docs/telemetry-otel.md.
    /// </summary>
    /// <exception cref="OptionsValidationException">A <c>Telemetry</c> setting is invalid; the message names it.</exception>
    public static IHostApplicationBuilder AddMicroAppsTelemetry(this IHostApplicationBuilder builder, string serviceName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        var servesHttp = builder is WebApplicationBuilder;
        var telemetry = builder.AddValidatedOptions(TelemetryOptions.Section, new TelemetryOptionsValidator(servesHttp));
        var metricsOptions = builder.AddValidatedOptions(GatewayMetricsOptions.Section, new GatewayMetricsOptionsValidator());
        var exporter = telemetry.Exporter?.Trim().ToLowerInvariant() ?? "none";
        var prometheus = telemetry.Prometheus ?? new PrometheusScrapeOptions();
        Uri? endpoint = Uri.TryCreate(telemetry.OtlpEndpoint, UriKind.Absolute, out var parsed) ? parsed : null;
        if (exporter == "none" && !prometheus.Enabled)
        {
            // Without an exporter, listening would still create and record an activity for every request
            // and grain call (and aggregate every metric) only to drop them: measurable on the governed call.
            return builder;
        }

        var scrapePath = prometheus.ScrapeEndpointPath;
        if (prometheus.Enabled && servesHttp)
        {
            builder.Services.AddSingleton(new PrometheusScrapeEndpoint(scrapePath, string.IsNullOrEmpty(prometheus.ScrapeToken) ? null : prometheus.ScrapeToken));
        }

        var otel = builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService(serviceName));
        otel.WithMetrics(metrics =>
        {
            metrics.AddMeter("Microsoft.Orleans", InstrumentationName).AddAspNetCoreInstrumentation();

            // The SDK keeps 2,000 series per instrument by default; the platform's labels are bounded (apps by the cap,
            // outcomes, tiers, reasons), so allow what they can reach rather than fold real series into an overflow one.
            var cardinality = Math.Max(2_000, (metricsOptions.PerAppSeriesCap + 3) * 64);
            metrics.AddView(instrument => instrument.Meter.Name == InstrumentationName
                ? new MetricStreamConfiguration { CardinalityLimit = cardinality }
                : null);
            if (exporter == "console")
            {
                metrics.AddConsoleExporter();
            }
            else if (exporter == "otlp")
            {
                metrics.AddOtlpExporter(o => { if (endpoint is not null) { o.Endpoint = endpoint; } });
            }

            if (prometheus.Enabled && servesHttp)
            {
                metrics.AddPrometheusExporter(o => o.ScrapeEndpointPath = scrapePath);
            }
            else if (prometheus.Enabled)
            {
                metrics.AddPrometheusHttpListener(o =>
                {
                    o.Host = prometheus.Host;
                    o.Port = prometheus.Port;
                    o.ScrapeEndpointPath = scrapePath;
                });
            }
        });

        if (exporter != "none")
        {
            // Prometheus is metrics only: with no trace exporter no tracer listens, so the step spans cost nothing.
            otel.WithTracing(tracing =>
            {
                tracing.AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", InstrumentationName, Connectors.ConnectorGateway.ActivitySourceName)
                    .AddAspNetCoreInstrumentation(o => o.Filter = http =>
                        !(prometheus.Enabled && http.Request.Path.StartsWithSegments(scrapePath, StringComparison.OrdinalIgnoreCase)));
                if (exporter == "console")
                {
                    tracing.AddConsoleExporter();
                }
                else if (exporter == "otlp")
                {
                    tracing.AddOtlpExporter(o => { if (endpoint is not null) { o.Endpoint = endpoint; } });
                }
            });
        }

        return builder;
    }

    /// <summary>
    /// Maps the Prometheus scrape endpoint when <see cref="AddMicroAppsTelemetry"/> enabled it on this web host
    /// (<c>Telemetry:Prometheus:Enabled</c>); otherwise does nothing. With <c>Telemetry:Prometheus:ScrapeToken</c> set,
    /// a scrape without <c>Authorization: Bearer {token}</c> gets 401.
    /// </summary>
    public static IEndpointRouteBuilder MapMicroAppsTelemetry(this IEndpointRouteBuilder endpoints)
    {
        if (endpoints.ServiceProvider.GetService<PrometheusScrapeEndpoint>() is not { } scrape)
        {
            return endpoints;
        }

        endpoints.MapPrometheusScrapingEndpoint(
            scrape.Path,
            meterProvider: null,
            configureBranchedPipeline: scrape.Token is null ? null : pipeline => pipeline.Use(scrape.RequireTokenAsync),
            optionsName: null);
        return endpoints;
    }

    private static OrleansHostOptions AddOrleansHostOptions(this IHostApplicationBuilder builder) =>
        builder.AddValidatedOptions(OrleansHostOptions.Section, new OrleansHostOptionsValidator());

    private static void AddStorageOptions(this IHostApplicationBuilder builder) =>
        builder.AddValidatedOptions(StorageOptions.Section, new StorageOptionsValidator());

    /// <summary>
    /// Binds and registers options with ValidateOnStart, and also validates them right away: Orleans reads
    /// its options while the host is being built and started, before ValidateOnStart runs, so a bad value
    /// would otherwise surface as a stack trace from deep inside a provider.
    /// </summary>
    /// <exception cref="OptionsValidationException">A value cannot be converted or is invalid; the message names the setting.</exception>
    private static T AddValidatedOptions<T>(this IHostApplicationBuilder builder, string sectionName, IValidateOptions<T> validator)
        where T : class, new()
    {
        var section = builder.Configuration.GetSection(sectionName);
        builder.Services.AddOptions<T>().Bind(section).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>>(validator));

        var value = new T();
        try
        {
            section.Bind(value);
        }
        catch (InvalidOperationException ex)
        {
            // "Failed to convert configuration value 'abc' at 'Orleans:SiloPort' to type 'System.Int32'."
            throw new OptionsValidationException(Options.DefaultName, typeof(T), [ex.Message]);
        }

        var result = validator.Validate(Options.DefaultName, value);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(T), result.Failures);
        }

        return value;
    }
}

/// <summary>
/// Keeps a client retrying while no gateway answers (a front door started before the silos), up to
/// <see cref="OrleansHostOptions.ClientConnectTimeout"/>; then the host fails to start with the last error.
/// </summary>
internal sealed class BoundedConnectionRetryFilter(IOptions<OrleansHostOptions> options, ILogger<BoundedConnectionRetryFilter> logger)
    : IClientConnectionRetryFilter
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);
    private readonly TimeProvider _time = TimeProvider.System;
    private long? _firstFailure;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        _firstFailure ??= _time.GetTimestamp();
        var waited = _time.GetElapsedTime(_firstFailure.Value);
        if (waited >= options.Value.ClientConnectTimeout)
        {
            logger.LogError("No Orleans gateway answered within {Timeout}; giving up: {Error}", options.Value.ClientConnectTimeout, exception.Message);
            return false;
        }

        logger.LogWarning("No Orleans gateway answered yet ({Error}); retrying for up to {Remaining}", exception.Message, options.Value.ClientConnectTimeout - waited);
        await Task.Delay(RetryInterval, _time, cancellationToken);
        return true;
    }
}

/// <summary>The front door's scrape endpoint as configured; registered only when it is enabled.</summary>
internal sealed class PrometheusScrapeEndpoint(string path, string? token)
{
    public string Path { get; } = path;

    public string? Token { get; } = token;

    public Task RequireTokenAsync(HttpContext http, Func<Task> next)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        if (presented is not null && Token is not null && TokensMatch(presented, Token))
        {
            return next();
        }

        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    /// <summary>Constant time in the token's content; hashing first also hides its length.</summary>
    private static bool TokensMatch(string presented, string expected) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(presented)),
            System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(expected)));
}
