using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using MailKit.Net.Smtp;
using MailKit.Security;
using MicroApps.Orleans.Budgets;
using Microsoft.Extensions.Options;
using MimeKit;

namespace MicroApps.Orleans.Alerts;

/// <summary>The result of one delivery attempt.</summary>
/// <param name="Delivered">The receiver accepted the alert.</param>
/// <param name="Retryable">A failure that may pass on a later attempt (timeouts, 5xx, 408, 429, SMTP 4xx, connection errors).</param>
public sealed record DeliveryAttemptResult(bool Delivered, bool Retryable, string? Error)
{
    public static DeliveryAttemptResult Success { get; } = new(true, false, null);

    public static DeliveryAttemptResult Transient(string error) => new(false, true, error);

    public static DeliveryAttemptResult Permanent(string error) => new(false, false, error);
}

/// <summary>Makes one delivery attempt of an alert on one channel; retries are the outbox's business.</summary>
public interface IAlertSender
{
    Task<DeliveryAttemptResult> SendWebhookAsync(BudgetAlert alert, string url, CancellationToken cancellationToken);

    Task<DeliveryAttemptResult> SendEmailAsync(BudgetAlert alert, IReadOnlyList<string> addresses, CancellationToken cancellationToken);
}

/// <summary>Webhooks over HTTP (JSON POST), e-mail over SMTP with MailKit.</summary>
public sealed class AlertSender(IOptions<AlertOptions> options) : IAlertSender, IDisposable
{
    /// <summary>The header carrying the alert id, the same on every attempt, so receivers can dedupe.</summary>
    public const string AlertIdHeader = "X-MicroApps-Alert-Id";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly AlertOptions _options = options.Value;

    /// <summary>The JSON body of a webhook delivery.</summary>
    public static WebhookPayload Payload(BudgetAlert alert) => new(
        alert.AlertId, "budget.threshold_reached", alert.BudgetId, alert.Threshold, alert.SpentUsd, alert.LimitUsd,
        alert.Period.ToString().ToLowerInvariant(), alert.PeriodStart, alert.RaisedAt, alert.Trigger);

    public async Task<DeliveryAttemptResult> SendWebhookAsync(BudgetAlert alert, string url, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Webhook.Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(Payload(alert), options: Json) };
            request.Headers.Add(AlertIdHeader, alert.AlertId);
            using var response = await _http.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return DeliveryAttemptResult.Success;
            }

            var error = $"HTTP {status} {response.ReasonPhrase}";

            // A receiver that refuses the request itself (bad URL path, auth) will refuse every retry as well.
            return status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
                ? DeliveryAttemptResult.Transient(error)
                : DeliveryAttemptResult.Permanent(error);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DeliveryAttemptResult.Transient($"no answer within {_options.Webhook.Timeout}");
        }
        catch (HttpRequestException ex)
        {
            return DeliveryAttemptResult.Transient(ex.Message);
        }
    }

    public async Task<DeliveryAttemptResult> SendEmailAsync(BudgetAlert alert, IReadOnlyList<string> addresses, CancellationToken cancellationToken)
    {
        var smtp = _options.Smtp;
        if (!smtp.Enabled)
        {
            return DeliveryAttemptResult.Permanent("e-mail is not configured (Alerts:Smtp:Host is empty)");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(smtp.Timeout);
        try
        {
            using var client = new SmtpClient { Timeout = (int)Math.Min(int.MaxValue, smtp.Timeout.TotalMilliseconds) };
            var security = !smtp.UseTls ? SecureSocketOptions.None : smtp.Port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls;
            await client.ConnectAsync(smtp.Host!, smtp.Port, security, timeout.Token);
            if (!string.IsNullOrEmpty(smtp.UserName))
            {
                await client.AuthenticateAsync(smtp.UserName, smtp.Password ?? "", timeout.Token);
            }

            await client.SendAsync(Message(alert, addresses, smtp.From!), timeout.Token);
            await client.DisconnectAsync(quit: true, timeout.Token);
            return DeliveryAttemptResult.Success;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DeliveryAttemptResult.Transient($"the SMTP server did not answer within {smtp.Timeout}");
        }
        catch (SmtpCommandException ex) when ((int)ex.StatusCode >= 500)
        {
            return DeliveryAttemptResult.Permanent($"SMTP {(int)ex.StatusCode}: {ex.Message}");
        }
        catch (AuthenticationException ex)
        {
            return DeliveryAttemptResult.Permanent($"SMTP authentication failed: {ex.Message}");
        }
        catch (Exception ex) when (ex is SmtpCommandException or SmtpProtocolException or IOException or System.Net.Sockets.SocketException or MailKit.ServiceNotConnectedException)
        {
            return DeliveryAttemptResult.Transient(ex.Message);
        }
    }

    /// <summary>The e-mail of an alert; its Message-Id derives from the alert id, so a repeated delivery is recognisable.</summary>
    public static MimeMessage Message(BudgetAlert alert, IReadOnlyList<string> addresses, string from)
    {
        var percent = (alert.Threshold * 100m).ToString("0.##", CultureInfo.InvariantCulture);
        var period = alert.Period.ToString().ToLowerInvariant();
        var message = new MimeMessage
        {
            Subject = $"Budget {alert.BudgetId} reached {percent}% of its {period} limit",
            MessageId = $"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(alert.AlertId)))[..32]}@microapps.alerts",
            Body = new TextPart("plain")
            {
                Text = string.Create(CultureInfo.InvariantCulture,
                    $"""
                    Budget {alert.BudgetId} reached {percent}% of its limit.

                    Spent: ${alert.SpentUsd:0.######} of ${alert.LimitUsd:0.######} this {period} (period started {alert.PeriodStart:u}).
                    Raised at: {alert.RaisedAt:u} ({alert.Trigger}).
                    Alert id: {alert.AlertId}
                    """),
            },
        };
        message.From.Add(MailboxAddress.Parse(from));
        foreach (var address in addresses)
        {
            message.To.Add(MailboxAddress.Parse(address));
        }

        message.Headers.Add(AlertIdHeader, alert.AlertId);
        return message;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The webhook body (camelCase JSON).</summary>
public sealed record WebhookPayload(
    string AlertId,
    string Type,
    string BudgetId,
    decimal Threshold,
    decimal SpentUsd,
    decimal LimitUsd,
    string Period,
    DateTimeOffset PeriodStart,
    DateTimeOffset RaisedAt,
    string Trigger);
