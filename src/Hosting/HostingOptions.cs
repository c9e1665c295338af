using System.Net;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Hosting;

/// <summary>Cluster identity and endpoints (configuration section <c>Orleans</c>).</summary>
public sealed class OrleansHostOptions
{
    public const string Section = "Orleans";
    public const string AzureStorageProvider = "AzureStorage";
    public const string LocalhostProvider = "Localhost";

    /// <summary>Membership group; silos and clients with the same cluster id form one cluster.</summary>
    public string ClusterId { get; set; } = "microapps-dev";

    /// <summary>Identity of the deployment; grain state is keyed by it, so it outlives cluster ids.</summary>
    public string ServiceId { get; set; } = "microapps";

    /// <summary><c>AzureStorage</c> (Azure Table clustering and grain state) or <c>Localhost</c> (development: memory state).</summary>
    public string Provider { get; set; } = AzureStorageProvider;

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>Address other silos and clients reach this silo at: an IP address or a host name resolved at start.</summary>
    public string AdvertisedIp { get; set; } = "127.0.0.1";

    /// <summary>How long a client keeps retrying to reach a gateway before its host gives up.</summary>
    public TimeSpan ClientConnectTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a stopping silo may take to hand its grains over and leave the cluster.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    internal bool UsesAzureStorage => string.Equals(Provider, AzureStorageProvider, StringComparison.OrdinalIgnoreCase);

    internal IPAddress ResolveAdvertisedAddress()
    {
        if (IPAddress.TryParse(AdvertisedIp, out var address))
        {
            return address;
        }

        // A host name (a compose service name, a pod name) is resolved once at start so containers need no fixed IPs.
        return Dns.GetHostAddresses(AdvertisedIp).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            ?? throw new InvalidOperationException($"Orleans:AdvertisedIp '{AdvertisedIp}' does not resolve to an IPv4 address.");
    }
}

internal sealed class OrleansHostOptionsValidator : IValidateOptions<OrleansHostOptions>
{
    public ValidateOptionsResult Validate(string? name, OrleansHostOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ClusterId))
        {
            failures.Add("Orleans:ClusterId must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(options.ServiceId))
        {
            failures.Add("Orleans:ServiceId must not be empty.");
        }

        if (!string.Equals(options.Provider, OrleansHostOptions.AzureStorageProvider, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(options.Provider, OrleansHostOptions.LocalhostProvider, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"Orleans:Provider '{options.Provider}' is not supported; use '{OrleansHostOptions.AzureStorageProvider}' or '{OrleansHostOptions.LocalhostProvider}'.");
        }

        if (options.SiloPort is < 1 or > 65535)
        {
            failures.Add($"Orleans:SiloPort {options.SiloPort} is not a port (1-65535).");
        }

        if (options.GatewayPort is < 1 or > 65535)
        {
            failures.Add($"Orleans:GatewayPort {options.GatewayPort} is not a port (1-65535).");
        }

        if (options.SiloPort == options.GatewayPort)
        {
            failures.Add($"Orleans:SiloPort and Orleans:GatewayPort must differ (both {options.SiloPort}).");
        }

        if (string.IsNullOrWhiteSpace(options.AdvertisedIp))
        {
            failures.Add("Orleans:AdvertisedIp must not be empty.");
        }

        if (options.ClientConnectTimeout <= TimeSpan.Zero)
        {
            failures.Add("Orleans:ClientConnectTimeout must be positive.");
        }

        if (options.ShutdownTimeout <= TimeSpan.Zero)
        {
            failures.Add("Orleans:ShutdownTimeout must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Azure Storage account (configuration section <c>Storage</c>); Azurite locally.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>A full Azure Storage connection string with a TableEndpoint (or <c>UseDevelopmentStorage=true</c>).</summary>
    public string ConnectionString { get; set; } = "";
}

/// <summary>Checks the connection string parses, so a typo stops the host at start with the setting's name.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail("Storage:ConnectionString is required when Orleans:Provider is AzureStorage.");
        }

        try
        {
            _ = new TableServiceClient(options.ConnectionString);
            return ValidateOptionsResult.Success;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException or UriFormatException)
        {
            // The SDK message never echoes the account key; we do not either.
            return ValidateOptionsResult.Fail($"Storage:ConnectionString is not a valid Azure Storage connection string ({ex.Message.Split('\n')[0].Trim()}).");
        }
    }
}

/// <summary>OpenTelemetry export (configuration section <c>Telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary><c>none</c> (default), <c>console</c> or <c>otlp</c>: where metrics and traces are pushed.</summary>
    public string Exporter { get; set; } = "none";

    /// <summary>OTLP endpoint, e.g. <c>http://localhost:4317</c>; the exporter's default when empty.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>A Prometheus scrape endpoint for the metrics, independent of <see cref="Exporter"/>.</summary>
    public PrometheusScrapeOptions Prometheus { get; set; } = new();
}

/// <summary>The Prometheus scrape endpoint (configuration section <c>Telemetry:Prometheus</c>).</summary>
public sealed class PrometheusScrapeOptions
{
    public const int DefaultPort = 9464;
    public const string DefaultPath = "/metrics";
    public const int MinScrapeTokenLength = 16;

    /// <summary>Serve the metrics for Prometheus to scrape. Off by default.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// Path of the scrape endpoint (default <c>/metrics</c>): on the front door's own HTTP port, and on the silo's
    /// listener (<see cref="Port"/>).
    /// </summary>
    public string ScrapeEndpointPath { get; set; } = DefaultPath;

    /// <summary>Port of the silo's scrape listener (a silo serves no other HTTP); the front door ignores it.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>Host the silo's listener binds: <c>*</c> (every interface, default) or a host name such as <c>localhost</c>.</summary>
    public string Host { get; set; } = "*";

    /// <summary>
    /// When set, the front door's scrape endpoint answers only <c>Authorization: Bearer {token}</c> (Prometheus'
    /// <c>authorization</c> scrape setting); anonymous otherwise, as Prometheus endpoints usually are. The silo's
    /// listener cannot check a token, so a silo refuses to start with one set.
    /// </summary>
    public string? ScrapeToken { get; set; }
}

internal sealed class TelemetryOptionsValidator(bool servesHttp) : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var failures = new List<string>();
        var exporter = options.Exporter?.Trim().ToLowerInvariant();
        if (exporter is not ("none" or "console" or "otlp"))
        {
            failures.Add($"Telemetry:Exporter '{options.Exporter}' is not supported; use none, console or otlp.");
        }

        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint) && !Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out _))
        {
            failures.Add($"Telemetry:OtlpEndpoint '{options.OtlpEndpoint}' is not an absolute URI.");
        }

        var prometheus = options.Prometheus ?? new PrometheusScrapeOptions();
        if (prometheus.Enabled)
        {
            ValidatePrometheus(prometheus, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void ValidatePrometheus(PrometheusScrapeOptions prometheus, List<string> failures)
    {
        var path = prometheus.ScrapeEndpointPath;
        if (string.IsNullOrWhiteSpace(path) || !path.StartsWith('/') || path.StartsWith("//", StringComparison.Ordinal)
            || path.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '?' or '#' or '\\'))
        {
            failures.Add($"Telemetry:Prometheus:ScrapeEndpointPath '{path}' is not a path; use one starting with '/', such as /metrics.");
        }

        if (servesHttp)
        {
            if (prometheus.ScrapeToken is { } token && (token.Length < PrometheusScrapeOptions.MinScrapeTokenLength || token.Any(char.IsWhiteSpace)))
            {
                // Never echo the token.
                failures.Add($"Telemetry:Prometheus:ScrapeToken must be at least {PrometheusScrapeOptions.MinScrapeTokenLength} characters without spaces.");
            }

            return;
        }

        if (prometheus.Port is < 1 or > 65535)
        {
            failures.Add($"Telemetry:Prometheus:Port {prometheus.Port} is not a port (1-65535).");
        }

        if (string.IsNullOrWhiteSpace(prometheus.Host) || prometheus.Host.Any(c => char.IsWhiteSpace(c) || c is '/' or '?' or '#'))
        {
            failures.Add($"Telemetry:Prometheus:Host '{prometheus.Host}' is not a host name; use *, localhost or an address.");
        }

        if (!string.IsNullOrEmpty(prometheus.ScrapeToken))
        {
            failures.Add("Telemetry:Prometheus:ScrapeToken is only honoured by the front door; a silo's scrape listener is anonymous, so remove the token from the silo's settings (and keep its port private).");
        }
    }
}
