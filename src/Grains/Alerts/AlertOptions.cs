using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Alerts;

/// <summary>Budget alerts and their delivery (configuration section <c>Alerts</c>).</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary>The thresholds when nothing is configured.</summary>
    public static IReadOnlyList<decimal> BuiltInThresholds { get; } = [0.6m, 0.8m, 1.0m];

    /// <summary>Thresholds of budgets that set none of their own (shares of the limit in (0, 1]); null means 0.6, 0.8, 1.0.</summary>
    /// <remarks>An array, not a list: the configuration binder replaces arrays but appends to pre-filled lists.</remarks>
    public decimal[]? DefaultThresholds { get; set; }

    /// <summary>The tier a call is served on when its budget degrades; null means the free <c>local</c> tier.</summary>
    public string? DegradeTier { get; set; }

    public WebhookOptions Webhook { get; set; } = new();

    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>How many alerts each budget's outbox keeps (oldest delivered or failed ones are dropped first).</summary>
    public int RetainedAlertsPerBudget { get; set; } = 100;

    /// <summary>
    /// How often an outbox with pending deliveries is woken by its reminder after a deactivation or silo failure
    /// (Orleans refuses reminder periods under one minute).
    /// </summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    public IReadOnlyList<decimal> EffectiveDefaultThresholds => DefaultThresholds is { } configured ? configured.Order().ToArray() : BuiltInThresholds;

    public string EffectiveDegradeTier => string.IsNullOrWhiteSpace(DegradeTier) ? ModelCatalogOptions.LocalTierName : DegradeTier.Trim();
}

/// <summary>Retry settings shared by the delivery channels.</summary>
public abstract class DeliveryRetryOptions
{
    /// <summary>Attempts in all (the first one included) before the delivery is given up and recorded as failed.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The wait before the first retry; each later wait doubles (exponential backoff).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait between two attempts.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Randomises each wait around its exponential value, so many failing receivers are not retried in lockstep.</summary>
    public bool UseJitter { get; set; } = true;

    /// <summary>How long one attempt may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary><c>Alerts:Webhook</c>: alerts POSTed as JSON to a budget's webhook URL.</summary>
public sealed class WebhookOptions : DeliveryRetryOptions
{
}

/// <summary><c>Alerts:Smtp</c>: alerts e-mailed to a budget's addresses; e-mail is off while <see cref="Host"/> is empty.</summary>
public sealed class SmtpOptions : DeliveryRetryOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    /// <summary>The sender address, e.g. <c>MicroApps &lt;alerts@example.com&gt;</c>.</summary>
    public string? From { get; set; }

    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>TLS: implicit TLS on port 465, STARTTLS on any other port. Off only for local test servers.</summary>
    public bool UseTls { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}

/// <summary>Stops the host at start with one line per wrong <c>Alerts</c> setting.</summary>
public sealed class AlertOptionsValidator(IOptions<ModelCatalogOptions> catalog) : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var errors = new List<string>();
        if (options.DefaultThresholds is { } thresholds)
        {
            foreach (var problem in AlertThresholds.Problems(thresholds))
            {
                errors.Add($"Alerts:DefaultThresholds: {problem}");
            }
        }

        if (options.DegradeTier is { } tier && !string.IsNullOrWhiteSpace(tier)
            && !catalog.Value.Tiers.Keys.Contains(tier.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"Alerts:DegradeTier '{tier}' is not a configured tier (configured: {string.Join(", ", catalog.Value.Tiers.Keys)}).");
        }

        if (options.RetainedAlertsPerBudget < 1)
        {
            errors.Add($"Alerts:RetainedAlertsPerBudget must be at least 1, got {options.RetainedAlertsPerBudget}.");
        }

        if (options.ReminderPeriod < TimeSpan.FromMinutes(1))
        {
            errors.Add($"Alerts:ReminderPeriod must be at least 00:01:00 (the Orleans minimum), got {options.ReminderPeriod}.");
        }

        ValidateRetry("Alerts:Webhook", options.Webhook, errors);
        ValidateRetry("Alerts:Smtp", options.Smtp, errors);
        var smtp = options.Smtp;
        if (smtp.Enabled)
        {
            if (smtp.Port is < 1 or > 65535)
            {
                errors.Add($"Alerts:Smtp:Port must be 1-65535, got {smtp.Port}.");
            }

            if (string.IsNullOrWhiteSpace(smtp.From) || !MimeKit.MailboxAddress.TryParse(smtp.From, out _))
            {
                errors.Add($"Alerts:Smtp:From must be a valid sender address when Alerts:Smtp:Host is set, got '{smtp.From}'.");
            }

            if (string.IsNullOrEmpty(smtp.UserName) != string.IsNullOrEmpty(smtp.Password))
            {
                errors.Add("Alerts:Smtp:UserName and Alerts:Smtp:Password are set together or not at all.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateRetry(string section, DeliveryRetryOptions retry, List<string> errors)
    {
        if (retry.MaxAttempts is < 1 or > 50)
        {
            errors.Add($"{section}:MaxAttempts must be 1-50, got {retry.MaxAttempts}.");
        }

        if (retry.BaseDelay <= TimeSpan.Zero)
        {
            errors.Add($"{section}:BaseDelay must be positive, got {retry.BaseDelay}.");
        }

        if (retry.MaxDelay < retry.BaseDelay)
        {
            errors.Add($"{section}:MaxDelay must be at least BaseDelay ({retry.BaseDelay}), got {retry.MaxDelay}.");
        }

        if (retry.Timeout <= TimeSpan.Zero)
        {
            errors.Add($"{section}:Timeout must be positive, got {retry.Timeout}.");
        }
    }
}

/// <summary>What makes a list of alert thresholds acceptable; shared by the options validator, the grain and the admin API.</summary>
public static class AlertThresholds
{
    public const int MaxCount = 10;

    /// <summary>What is wrong with <paramref name="thresholds"/>; empty when they are valid.</summary>
    public static IReadOnlyList<string> Problems(IReadOnlyList<decimal> thresholds)
    {
        var problems = new List<string>();
        if (thresholds.Count > MaxCount)
        {
            problems.Add($"at most {MaxCount} thresholds, got {thresholds.Count}");
        }

        foreach (var t in thresholds)
        {
            if (t <= 0m || t > 1m)
            {
                problems.Add($"each threshold is a share of the limit in (0, 1], e.g. 0.8; got {t}");
            }
        }

        if (thresholds.Distinct().Count() != thresholds.Count)
        {
            problems.Add("thresholds must be distinct");
        }

        return problems;
    }
}
