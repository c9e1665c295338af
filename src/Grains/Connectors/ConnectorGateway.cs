using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Governance;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace MicroApps.Orleans.Connectors;

/// <summary>
/// The certified connectors. Every call is checked before any network I/O: the connector must be declared in the manifest
/// with a <c>use</c> of a certified connector and valid settings, and its target must be on the connector's declared host
/// and on the app's egress allowlist (<see cref="EgressGuard"/>, which audits refusals). Redirects are never followed.
/// Each call is logged with connector, host, outcome, bytes and duration; bodies are never logged.
/// </summary>
public sealed partial class ConnectorGateway(
    IHttpClientFactory httpClients,
    EgressGuard egress,
    IOptions<ConnectorOptions> options,
    ILogger<ConnectorGateway> logger) : IConnectorGateway
{
    /// <summary>The activity source of connector calls (one span per call, tagged with connector, host and outcome).</summary>
    public const string ActivitySourceName = "MicroApps.Orleans.Connectors";

    /// <summary>The header a webhook receiver uses to drop repeated deliveries.</summary>
    public const string DeliveryIdHeader = "X-MicroApps-Delivery-Id";

    private static readonly ActivitySource Activities = new(ActivitySourceName);
    private readonly ConcurrentDictionary<string, BlobServiceClient> _blobServices = new(StringComparer.OrdinalIgnoreCase);

    public async Task<ConnectorResponse> ReadAsync(ConnectorCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        return await MeasureAsync(call, "read", async (declared, entry, settings, trace) => entry.Name switch
        {
            BuiltIns.HttpJson => await HttpJsonAsync(call, declared, settings, HttpMethod.Get, null, trace, cancellationToken),
            BuiltIns.AzureBlob => await ReadBlobAsync(call, declared, settings, trace, cancellationToken),
            _ => ConnectorResponse.Failure("connector_failed", $"connector '{call.Connector}' ({entry.Ref}) only sends; it cannot read"),
        });
    }

    public async Task<ConnectorResponse> SendAsync(ConnectorCall call, string jsonBody, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(jsonBody);
        return await MeasureAsync(call, "send", async (declared, entry, settings, trace) =>
        {
            if (!IsJson(jsonBody))
            {
                return ConnectorResponse.Failure("connector_failed", $"connector '{call.Connector}': the body to send is not valid JSON");
            }

            return entry.Name switch
            {
                BuiltIns.Webhook => await SendWebhookAsync(call, declared, settings, jsonBody, trace, cancellationToken),
                BuiltIns.HttpJson => await HttpJsonAsync(call, declared, settings, HttpMethod.Post, jsonBody, trace, cancellationToken),
                _ => ConnectorResponse.Failure("connector_failed", $"connector '{call.Connector}' ({entry.Ref}) only reads; it cannot send"),
            };
        });
    }

    /// <summary>Where a call went, filled in as it is prepared (for the log line and the span).</summary>
    private sealed class CallTrace
    {
        public string Host { get; set; } = "";

        public string Kind { get; set; } = "";

        public int Attempts { get; set; }
    }

    private async Task<ConnectorResponse> MeasureAsync(
        ConnectorCall call, string operation,
        Func<ConnectorRef, CatalogEntry, IReadOnlyDictionary<string, string>, CallTrace, Task<ConnectorResponse>> run)
    {
        var started = Stopwatch.GetTimestamp();
        var trace = new CallTrace();
        using var activity = Activities.StartActivity($"connector {operation}", ActivityKind.Client);
        activity?.SetTag("microapps.app_id", call.AppId);
        activity?.SetTag("microapps.connector", call.Connector);
        ConnectorResponse response;
        try
        {
            response = Declared(call, out var declared, out var entry, out var settings) is { } refused
                ? refused
                : await run(declared!, entry!, settings!, trace);
        }
        catch (OperationCanceledException)
        {
            LogCall(call.AppId, call.Connector, trace.Kind, operation, trace.Host, "cancelled", 0, trace.Attempts, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            throw;
        }

        var outcome = response.Ok ? "ok" : response.ErrorCode ?? "connector_failed";
        activity?.SetTag("microapps.connector.kind", trace.Kind);
        activity?.SetTag("server.address", trace.Host);
        activity?.SetTag("microapps.connector.outcome", outcome);
        activity?.SetTag("microapps.connector.bytes", response.Bytes);
        if (!response.Ok)
        {
            activity?.SetStatus(ActivityStatusCode.Error, response.ErrorCode);
        }

        LogCall(call.AppId, call.Connector, trace.Kind, operation, trace.Host, outcome, response.Bytes, trace.Attempts, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        if (!response.Ok)
        {
            LogFailure(call.AppId, call.Connector, outcome, response.ErrorMessage ?? "");
        }

        return response;

        ConnectorResponse? Declared(ConnectorCall c, out ConnectorRef? declared, out CatalogEntry? entry, out IReadOnlyDictionary<string, string>? settings)
        {
            var result = Resolve(c, out declared, out entry, out settings);
            trace.Kind = entry?.Name ?? declared?.Use?.Name ?? "";
            return result;
        }
    }

    /// <summary>The declared connector, its certified entry and its settings with defaults; or the refusal.</summary>
    private static ConnectorResponse? Resolve(
        ConnectorCall call, out ConnectorRef? declared, out CatalogEntry? entry, out IReadOnlyDictionary<string, string>? settings)
    {
        entry = null;
        settings = null;
        var connectors = call.Manifest.Connectors ?? [];
        declared = connectors.FirstOrDefault(c => c is not null && string.Equals(c.Name, call.Connector, StringComparison.Ordinal));
        if (declared is null)
        {
            var names = connectors.Where(c => c is not null).Select(c => c.Name).ToList();
            return ConnectorResponse.Failure("connector_not_declared",
                $"connector '{call.Connector}' is not declared in app '{call.AppId}''s manifest (declared: {(names.Count == 0 ? "none" : string.Join(", ", names))})");
        }

        if (declared.Use is not { } use)
        {
            return ConnectorResponse.Failure("connector_not_declared",
                $"connector '{call.Connector}' declares no 'use': name a certified connector ({string.Join(", ", BuiltInCatalog.All.Where(e => e.Kind == CatalogKind.Connector).Select(e => e.Ref))})");
        }

        entry = CertifiedConnectors.Find(use, BuiltInCatalog.All);
        if (entry is null)
        {
            return ConnectorResponse.Failure("connector_not_declared", $"connector '{call.Connector}' uses '{use}', which is not a certified connector");
        }

        var problems = TemplateParameters.Validate(entry.Parameters, declared.Settings, call.Manifest.AllowedTiers ?? [], "settings");
        if (problems.Count > 0)
        {
            return ConnectorResponse.Failure("connector_not_declared",
                $"connector '{call.Connector}' ({use}) has wrong settings: {string.Join("; ", problems.Select(p => $"{p.Field}: {p.Message}"))}");
        }

        settings = TemplateParameters.WithDefaults(entry.Parameters, declared.Settings);
        return null;
    }

    /// <summary>
    /// Refuses a target that is not on the connector's declared host or not on the app's egress allowlist; null when it may
    /// be reached. Nothing has left the platform when this refuses.
    /// </summary>
    private async Task<ConnectorResponse?> CheckEgressAsync(ConnectorCall call, ConnectorRef declared, Uri target, CallTrace trace)
    {
        var host = CertifiedConnectors.NormalizeHost(target.IdnHost) ?? target.IdnHost;
        trace.Host = host;
        if (!CertifiedConnectors.SameHost(host, declared.Host))
        {
            LogHostMismatch(call.AppId, call.Connector, declared.Host, host);
            return ConnectorResponse.Failure("egress_refused",
                $"connector '{call.Connector}' may reach only its declared host '{declared.Host}', not '{host}'");
        }

        if (!await egress.AuthorizeAsync(call.AppId, call.Manifest.EgressAllowlist ?? [], target))
        {
            return ConnectorResponse.Failure("egress_refused",
                $"connector '{call.Connector}': host '{host}' is not on app '{call.AppId}''s egress allowlist");
        }

        return null;
    }

    private async Task<ConnectorResponse> HttpJsonAsync(
        ConnectorCall call, ConnectorRef declared, IReadOnlyDictionary<string, string> settings, HttpMethod method, string? body,
        CallTrace trace, CancellationToken cancellationToken)
    {
        var baseUrl = new Uri(settings["baseUrl"], UriKind.Absolute);
        trace.Host = CertifiedConnectors.NormalizeHost(baseUrl.IdnHost) ?? "";
        if (!CertifiedConnectors.TryResolveUnder(baseUrl, call.Path, out var target, out var problem))
        {
            return ConnectorResponse.Failure("egress_refused", $"connector '{call.Connector}': {problem}");
        }

        if (await CheckEgressAsync(call, declared, target, trace) is { } refused)
        {
            return refused;
        }

        var timeout = TimeSpan.FromSeconds(TemplateParameters.Integer(settings, "timeoutSeconds", 10));
        var maxBytes = TemplateParameters.Integer(settings, "maxBytes", 1024 * 1024);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(method, target);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            trace.Attempts = 1;
            using var response = await httpClients.CreateClient(ConnectorOptions.HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            return await ReadJsonAnswerAsync(call.Connector, trace.Host, target, response, maxBytes, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ConnectorResponse.Failure("connector_timeout", $"connector '{call.Connector}': host '{trace.Host}' did not answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return ConnectorResponse.Failure("connector_failed", $"connector '{call.Connector}': could not reach host '{trace.Host}': {e.Message}");
        }
    }

    private static async Task<ConnectorResponse> ReadJsonAnswerAsync(
        string connector, string host, Uri target, HttpResponseMessage response, int maxBytes, CancellationToken cancellationToken)
    {
        if (Unsuccessful(connector, host, target, response) is { } failed)
        {
            return failed;
        }

        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return new ConnectorResponse(true, "", "", 0);
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (!IsJsonMediaType(mediaType))
        {
            return ConnectorResponse.Failure("connector_unsupported_content",
                $"connector '{connector}': host '{host}' answered {(string.IsNullOrEmpty(mediaType) ? "without a content type" : $"'{mediaType}'")}; only JSON (application/json) is read");
        }

        if (response.Content.Headers.ContentLength is { } length && length > maxBytes)
        {
            return TooLarge(connector, host, maxBytes, length);
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var bytes = await ReadCappedAsync(stream, maxBytes, cancellationToken);
        if (bytes is null)
        {
            return TooLarge(connector, host, maxBytes, null);
        }

        var text = Decode(bytes, response.Content.Headers.ContentType?.CharSet);
        if (!IsJson(text))
        {
            return ConnectorResponse.Failure("connector_unsupported_content", $"connector '{connector}': host '{host}' answered '{mediaType}' that is not valid JSON");
        }

        return new ConnectorResponse(true, text, "application/json", bytes.Length);
    }

    /// <summary>A redirect, 404 or other non-2xx answer as a failure; null for a 2xx.</summary>
    private static ConnectorResponse? Unsuccessful(string connector, string host, Uri target, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status is >= 300 and < 400)
        {
            var location = response.Headers.Location is { } l ? (l.IsAbsoluteUri ? l : new Uri(target, l)).ToString() : "(no location)";
            return ConnectorResponse.Failure("connector_failed",
                $"connector '{connector}': host '{host}' redirected ({status}) to {location}; redirects are not followed");
        }

        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return ConnectorResponse.Failure("connector_not_found", $"connector '{connector}': {target.AbsolutePath} was not found on host '{host}' (404)");
        }

        return status is >= 200 and < 300
            ? null
            : ConnectorResponse.Failure("connector_failed", $"connector '{connector}': host '{host}' answered {status} {response.ReasonPhrase}".TrimEnd());
    }

    private async Task<ConnectorResponse> SendWebhookAsync(
        ConnectorCall call, ConnectorRef declared, IReadOnlyDictionary<string, string> settings, string jsonBody, CallTrace trace,
        CancellationToken cancellationToken)
    {
        var target = new Uri(settings["url"], UriKind.Absolute);
        if (await CheckEgressAsync(call, declared, target, trace) is { } refused)
        {
            return refused;
        }

        var timeout = TimeSpan.FromSeconds(TemplateParameters.Integer(settings, "timeoutSeconds", 10));
        var deliveryId = string.IsNullOrWhiteSpace(call.IdempotencyKey) ? Guid.NewGuid().ToString("N") : call.IdempotencyKey;
        var body = Encoding.UTF8.GetBytes(jsonBody);
        var client = httpClients.CreateClient(ConnectorOptions.HttpClientName);
        var pipeline = WebhookPipeline(options.Value.Webhook, timeout, call, trace);
        try
        {
            using var response = await pipeline.ExecuteAsync(async token =>
            {
                trace.Attempts++;
                using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                request.Headers.Add(DeliveryIdHeader, deliveryId);
                return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            }, cancellationToken);
            if (Unsuccessful(call.Connector, trace.Host, target, response) is { } failed)
            {
                return (int)response.StatusCode >= 500 && trace.Attempts > 1
                    ? failed with { ErrorMessage = $"{failed.ErrorMessage} after {trace.Attempts} attempts" }
                    : failed;
            }

            // The receiver's answer is not read: a webhook is a notification, and an unread body cannot be too large.
            return new ConnectorResponse(true, "", "", body.Length);
        }
        catch (TimeoutRejectedException)
        {
            return ConnectorResponse.Failure("connector_timeout",
                $"connector '{call.Connector}': host '{trace.Host}' did not answer within {timeout.TotalSeconds:0.#} s ({trace.Attempts} attempt(s))");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return ConnectorResponse.Failure("connector_failed",
                $"connector '{call.Connector}': could not reach host '{trace.Host}' ({trace.Attempts} attempt(s)): {e.Message}");
        }
    }

    /// <summary>Each attempt has the connector's timeout; 5xx answers, timeouts and connection failures are retried with exponential backoff.</summary>
    private ResiliencePipeline<HttpResponseMessage> WebhookPipeline(WebhookConnectorOptions settings, TimeSpan timeout, ConnectorCall call, CallTrace trace)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (settings.Retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = settings.Retries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.RetryDelay,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                {
                    { Exception: TimeoutRejectedException or HttpRequestException or IOException } => true,
                    { Result: { } r } => (int)r.StatusCode >= 500,
                    _ => false,
                }),
                OnRetry = args =>
                {
                    LogRetry(call.AppId, call.Connector, trace.Host, args.AttemptNumber + 1,
                        args.Outcome.Result is { } r ? ((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : args.Outcome.Exception?.GetType().Name ?? "",
                        args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder.AddTimeout(timeout).Build();
    }

    private async Task<ConnectorResponse> ReadBlobAsync(
        ConnectorCall call, ConnectorRef declared, IReadOnlyDictionary<string, string> settings, CallTrace trace, CancellationToken cancellationToken)
    {
        var account = TemplateParameters.Text(settings, "account", AzureBlobConnectorOptions.DefaultAccount);
        var containerName = TemplateParameters.Text(settings, "container");
        var maxBytes = TemplateParameters.Integer(settings, "maxBytes", 1024 * 1024);
        var blobOptions = options.Value.AzureBlob;
        var connectionString = blobOptions.ConnectionStringOf(account);
        if (connectionString is null)
        {
            return ConnectorResponse.Failure("connector_failed",
                $"connector '{call.Connector}': storage account '{account}' is not configured (Connectors:AzureBlob:Accounts:{account})");
        }

        BlobServiceClient service;
        try
        {
            service = _blobServices.GetOrAdd(account, _ => new BlobServiceClient(connectionString, new BlobClientOptions
            {
                Retry = { MaxRetries = 2, NetworkTimeout = TimeSpan.FromSeconds(blobOptions.TimeoutSeconds) },
            }));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return ConnectorResponse.Failure("connector_failed", $"connector '{call.Connector}': storage account '{account}' has an invalid connection string");
        }

        trace.Host = CertifiedConnectors.NormalizeHost(service.Uri.IdnHost) ?? "";
        if (CertifiedConnectors.BlobNameProblem(call.Path) is { } problem)
        {
            return ConnectorResponse.Failure("egress_refused", $"connector '{call.Connector}': {problem}");
        }

        var blob = service.GetBlobContainerClient(containerName).GetBlobClient(call.Path);
        if (await CheckEgressAsync(call, declared, blob.Uri, trace) is { } refused)
        {
            return refused;
        }

        var byExtension = TextTypeOfExtension(call.Path);
        if (byExtension is null && Path.HasExtension(call.Path))
        {
            return UnsupportedBlob(call.Connector, call.Path, $"extension '{Path.GetExtension(call.Path)}'");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(blobOptions.TimeoutSeconds));
        try
        {
            trace.Attempts = 1;
            using var download = (await blob.DownloadStreamingAsync(cancellationToken: deadline.Token)).Value;
            var contentType = byExtension ?? TextTypeOfMediaType(download.Details.ContentType);
            if (contentType is null)
            {
                return UnsupportedBlob(call.Connector, call.Path, $"content type '{download.Details.ContentType}'");
            }

            if (download.Details.ContentLength > maxBytes)
            {
                return TooLarge(call.Connector, trace.Host, maxBytes, download.Details.ContentLength);
            }

            var bytes = await ReadCappedAsync(download.Content, maxBytes, deadline.Token);
            if (bytes is null)
            {
                return TooLarge(call.Connector, trace.Host, maxBytes, null);
            }

            var text = Decode(bytes, null);
            if (contentType == "application/json" && !IsJson(text))
            {
                return ConnectorResponse.Failure("connector_unsupported_content", $"connector '{call.Connector}': blob '{call.Path}' is not valid JSON");
            }

            return new ConnectorResponse(true, text, contentType, bytes.Length);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            var what = e.ErrorCode == "ContainerNotFound" ? $"container '{containerName}'" : $"blob '{call.Path}' in container '{containerName}'";
            return ConnectorResponse.Failure("connector_not_found", $"connector '{call.Connector}': {what} was not found on host '{trace.Host}'");
        }
        catch (RequestFailedException e)
        {
            return ConnectorResponse.Failure("connector_failed",
                $"connector '{call.Connector}': storage on host '{trace.Host}' answered {e.Status} {e.ErrorCode}".TrimEnd());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ConnectorResponse.Failure("connector_timeout",
                $"connector '{call.Connector}': blob '{call.Path}' was not read within {blobOptions.TimeoutSeconds} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return ConnectorResponse.Failure("connector_failed", $"connector '{call.Connector}': could not reach storage on host '{trace.Host}': {e.Message}");
        }
    }

    private static ConnectorResponse UnsupportedBlob(string connector, string name, string what) =>
        ConnectorResponse.Failure("connector_unsupported_content",
            $"connector '{connector}': blob '{name}' has {what}; only CSV, JSON and text (.csv, .json, .txt, .md) are read");

    private static ConnectorResponse TooLarge(string connector, string host, int maxBytes, long? length) =>
        ConnectorResponse.Failure("connector_too_large",
            $"connector '{connector}': the answer from host '{host}' is {(length is { } l ? $"{l} bytes" : "larger than that")}; the cap (maxBytes) is {maxBytes} bytes");

    /// <summary>The media type a blob name's extension reads as, or null.</summary>
    private static string? TextTypeOfExtension(string name) => Path.GetExtension(name).ToLowerInvariant() switch
    {
        ".csv" => "text/csv",
        ".json" => "application/json",
        ".txt" => "text/plain",
        ".md" => "text/markdown",
        _ => null,
    };

    private static string? TextTypeOfMediaType(string? contentType)
    {
        var mediaType = MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType?.ToLowerInvariant() : null;
        return mediaType switch
        {
            "text/csv" or "text/plain" or "text/markdown" => mediaType,
            _ when IsJsonMediaType(mediaType) => "application/json",
            _ => null,
        };
    }

    private static bool IsJsonMediaType(string? mediaType) =>
        mediaType is not null
        && (mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("text/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static bool IsJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>At most <paramref name="maxBytes"/> bytes of the stream, or null as soon as it has more: the rest is never read.</summary>
    private static async Task<byte[]?> ReadCappedAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[Math.Min(81920, maxBytes + 1)];
        while (true)
        {
            var read = await stream.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                return buffer.ToArray();
            }

            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }
    }

    private static string Decode(byte[] bytes, string? charset)
    {
        var encoding = Encoding.UTF8;
        if (!string.IsNullOrWhiteSpace(charset))
        {
            try
            {
                encoding = Encoding.GetEncoding(charset.Trim('"'));
            }
            catch (ArgumentException)
            {
                // An unknown charset is read as UTF-8, the JSON default, rather than failing the call.
            }
        }

        var text = encoding.GetString(bytes);
        return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Connector call app={AppId} connector={Connector} kind={Kind} op={Operation} host={Host} outcome={Outcome} bytes={Bytes} attempts={Attempts} durationMs={DurationMs:0.0}")]
    private partial void LogCall(string appId, string connector, string kind, string operation, string host, string outcome, long bytes, int attempts, double durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connector {Connector} of app {AppId} failed ({Outcome}): {Reason}")]
    private partial void LogFailure(string appId, string connector, string outcome, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connector {Connector} of app {AppId} may reach only {DeclaredHost}; refused {Host}")]
    private partial void LogHostMismatch(string appId, string connector, string declaredHost, string host);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Connector} of app {AppId} to {Host}: attempt {Attempt} after {Outcome}, waiting {DelayMs:0} ms")]
    private partial void LogRetry(string appId, string connector, string host, int attempt, string outcome, double delayMs);
}
