using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Apps;

/// <summary>Settings of the app lifecycle (configuration section <c>Lifecycle</c>).</summary>
public sealed class LifecycleOptions
{
    public const string Section = "Lifecycle";

    /// <summary>Quotas of test keys calling unreleased versions, counted apart from production quotas.</summary>
    public QuotaSettings TestQuotas { get; set; } = new() { RequestsPerMinute = 10, TokensPerDay = 20_000 };

    /// <summary>Ceiling on the quotas of a version approved automatically (internal app, every gate passed).</summary>
    public QuotaSettings AutoApprovedQuotas { get; set; } = new() { RequestsPerMinute = 30, TokensPerDay = 100_000 };

    /// <summary>Share of production callers a canary takes when its start names none (0 &lt; share ≤ 1).</summary>
    public double DefaultCanaryShare { get; set; } = 0.1;
}

/// <summary>Request and token quotas as configured; 0 means no limit.</summary>
public sealed class QuotaSettings
{
    public int RequestsPerMinute { get; set; }

    public long TokensPerDay { get; set; }

    public AppQuotas ToQuotas() => new(RequestsPerMinute, TokensPerDay);
}

/// <summary>Stops the host with the setting named when a lifecycle setting is out of range.</summary>
public sealed class LifecycleOptionsValidator : IValidateOptions<LifecycleOptions>
{
    public ValidateOptionsResult Validate(string? name, LifecycleOptions options)
    {
        var failures = new List<string>();
        CheckQuotas(nameof(LifecycleOptions.TestQuotas), options.TestQuotas, failures);
        CheckQuotas(nameof(LifecycleOptions.AutoApprovedQuotas), options.AutoApprovedQuotas, failures);
        if (!(options.DefaultCanaryShare > 0 && options.DefaultCanaryShare <= 1))
        {
            failures.Add($"{LifecycleOptions.Section}:{nameof(LifecycleOptions.DefaultCanaryShare)} must be greater than 0 and at most 1 (got {options.DefaultCanaryShare}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckQuotas(string field, QuotaSettings? quotas, List<string> failures)
    {
        if (quotas is null)
        {
            failures.Add($"{LifecycleOptions.Section}:{field} is required.");
            return;
        }

        if (quotas.RequestsPerMinute < 0)
        {
            failures.Add($"{LifecycleOptions.Section}:{field}:RequestsPerMinute must not be negative (0 means no limit).");
        }

        if (quotas.TokensPerDay < 0)
        {
            failures.Add($"{LifecycleOptions.Section}:{field}:TokensPerDay must not be negative (0 means no limit).");
        }
    }
}
