using Azure.Data.Tables;
using MicroApps.Orleans.Telemetry;
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
/// <c>Telemetry:Exporter</c> (<c>none</c>, <c>console</c>, <c>otlp</c>), <c>Telemetry:OtlpEndpoint</c>.
/// </summary>
public static class MicroAppsHosting
{
    /// <summary>Grain storage provider name every grain uses.</summary>
    public const string StorageProviderName = "store";

    /// <summary>Meter and activity source of the platform's own instruments.</summary>
    public const string InstrumentationName = "MicroApps.Orleans";

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
                sp.GetRequiredService<ILogger<AzureTableTraceStore>>())));
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
            }
            else
            {
                silo.UseLocalhostClustering(orleans.SiloPort, orleans.GatewayPort);
                silo.AddMemoryGrainStorage(StorageProviderName);
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

    /// <summary>OpenTelemetry metrics and traces (Orleans meter and activity sources) with the configured exporter.</summary>
    public static IHostApplicationBuilder AddMicroAppsTelemetry(this IHostApplicationBuilder builder, string serviceName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        var telemetry = builder.AddValidatedOptions(TelemetryOptions.Section, new TelemetryOptionsValidator());
        var exporter = telemetry.Exporter?.Trim().ToLowerInvariant() ?? "none";
        Uri? endpoint = Uri.TryCreate(telemetry.OtlpEndpoint, UriKind.Absolute, out var parsed) ? parsed : null;
        if (exporter == "none")
        {
            // Without an exporter, listening would still create and record an activity for every request
            // and grain call (and aggregate every metric) only to drop them: measurable on the governed call.
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter("Microsoft.Orleans", InstrumentationName).AddAspNetCoreInstrumentation();
                if (exporter == "console")
                {
                    metrics.AddConsoleExporter();
                }
                else if (exporter == "otlp")
                {
                    metrics.AddOtlpExporter(o => { if (endpoint is not null) { o.Endpoint = endpoint; } });
                }
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", InstrumentationName)
                    .AddAspNetCoreInstrumentation();
                if (exporter == "console")
                {
                    tracing.AddConsoleExporter();
                }
                else if (exporter == "otlp")
                {
                    tracing.AddOtlpExporter(o => { if (endpoint is not null) { o.Endpoint = endpoint; } });
                }
            });

        return builder;
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
