using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Connectors;

/// <summary>Platform settings of the certified connectors (configuration section <c>Connectors</c>).</summary>
public sealed class ConnectorOptions
{
    public const string Section = "Connectors";

    /// <summary>The name of the <see cref="System.Net.Http.IHttpClientFactory"/> client the http-json and webhook connectors use.</summary>
    public const string HttpClientName = "microapps-connectors";

    public WebhookConnectorOptions Webhook { get; set; } = new();

    public AzureBlobConnectorOptions AzureBlob { get; set; } = new();
}

/// <summary><c>Connectors:Webhook</c>: retries of outgoing webhooks.</summary>
public sealed class WebhookConnectorOptions
{
    /// <summary>Retries after the first attempt, on 5xx answers, timeouts and connection failures only (0 = no retry).</summary>
    public int Retries { get; set; } = 3;

    /// <summary>The wait before the first retry; each later wait doubles (exponential backoff with jitter).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary><c>Connectors:AzureBlob</c>: the storage accounts the azure-blob connector's <c>account</c> setting names.</summary>
public sealed class AzureBlobConnectorOptions
{
    /// <summary>The account name that falls back to the platform's storage (<c>Storage:ConnectionString</c>).</summary>
    public const string DefaultAccount = "default";

    /// <summary>Connection strings by account name (names compared case-insensitively).</summary>
    public Dictionary<string, string> Accounts { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long one blob read may take, the download included.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// <c>Storage:ConnectionString</c>, used for the <c>default</c> account when <see cref="Accounts"/> has none. Set from
    /// configuration at registration, not validated here: the storage providers own that setting.
    /// </summary>
    internal string? PlatformStorage { get; set; }

    /// <summary>The connection string of an account, or null when none is configured.</summary>
    public string? ConnectionStringOf(string account)
    {
        if (Accounts.TryGetValue(account, out var configured) && !string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        return string.Equals(account, DefaultAccount, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(PlatformStorage)
            ? PlatformStorage
            : null;
    }
}

/// <summary>Stops the host at start with one line per wrong <c>Connectors</c> setting.</summary>
public sealed class ConnectorOptionsValidator : IValidateOptions<ConnectorOptions>
{
    public ValidateOptionsResult Validate(string? name, ConnectorOptions options)
    {
        var errors = new List<string>();
        if (options.Webhook.Retries is < 0 or > 10)
        {
            errors.Add($"Connectors:Webhook:Retries must be 0-10, got {options.Webhook.Retries}.");
        }

        if (options.Webhook.RetryDelay <= TimeSpan.Zero || options.Webhook.RetryDelay > TimeSpan.FromMinutes(1))
        {
            errors.Add($"Connectors:Webhook:RetryDelay must be positive and at most 00:01:00, got {options.Webhook.RetryDelay}.");
        }

        if (options.AzureBlob.TimeoutSeconds is < 1 or > 600)
        {
            errors.Add($"Connectors:AzureBlob:TimeoutSeconds must be 1-600, got {options.AzureBlob.TimeoutSeconds}.");
        }

        foreach (var (account, connectionString) in options.AzureBlob.Accounts)
        {
            if (BlobAccountProblem(connectionString) is { } problem)
            {
                errors.Add($"Connectors:AzureBlob:Accounts:{account} {problem}");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>What is wrong with a storage connection string (parsed without any network call), or null.</summary>
    internal static string? BlobAccountProblem(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return "is empty: give the account's connection string.";
        }

        try
        {
            _ = new BlobServiceClient(connectionString).Uri;
            return null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            // The parser's message can echo the string, which holds the account key: name the problem, not the value.
            return "is not a valid storage connection string (e.g. DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;).";
        }
    }
}
