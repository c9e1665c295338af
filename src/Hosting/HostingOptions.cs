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

    /// <summary><c>none</c> (default), <c>console</c> or <c>otlp</c>.</summary>
    public string Exporter { get; set; } = "none";

    /// <summary>OTLP endpoint, e.g. <c>http://localhost:4317</c>; the exporter's default when empty.</summary>
    public string? OtlpEndpoint { get; set; }
}

internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var exporter = options.Exporter?.Trim().ToLowerInvariant();
        if (exporter is not ("none" or "console" or "otlp"))
        {
            return ValidateOptionsResult.Fail($"Telemetry:Exporter '{options.Exporter}' is not supported; use none, console or otlp.");
        }

        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint) && !Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out _))
        {
            return ValidateOptionsResult.Fail($"Telemetry:OtlpEndpoint '{options.OtlpEndpoint}' is not an absolute URI.");
        }

        return ValidateOptionsResult.Success;
    }
}
