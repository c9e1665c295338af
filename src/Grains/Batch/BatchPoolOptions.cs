using System.Globalization;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Batch;

/// <summary>
/// The batch pool (configuration section <c>Savings:BatchPool</c>): where non-urgent jobs run, how many items at once and
/// when. Configuration describes the pool named <see cref="BatchJobRules.DefaultPool"/>; a host may add further pools in
/// code as named options (<c>services.Configure&lt;BatchPoolOptions&gt;("nightly", …)</c>).
/// </summary>
public sealed class BatchPoolOptions
{
    public const string Section = "Savings:BatchPool";

    /// <summary>The tier every item runs on (the organisation's choice, like a route policy); the app must be allowed it.</summary>
    public string Tier { get; set; } = "local";

    /// <summary>Items of the pool running at once, over all its jobs: batch work yields to live traffic by staying small.</summary>
    public int MaxConcurrent { get; set; } = 1;

    /// <summary>Start of the off-peak window (UTC time of day, <c>HH:mm</c>); unset with <see cref="OffPeakEnd"/> means always open.</summary>
    public string? OffPeakStart { get; set; }

    /// <summary>End of the off-peak window (UTC, exclusive); a window may span midnight (22:00–06:00).</summary>
    public string? OffPeakEnd { get; set; }

    /// <summary>How often the pool looks for work while it has jobs (the silo's clock, not the platform clock).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the reminder wakes the pool after a restart or deactivation (Orleans reminders: at least a minute).</summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Items one job may hold.</summary>
    public int MaxItemsPerJob { get; set; } = 200;

    /// <summary>Governed calls an item may make when the backend fails before it is marked failed.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Longest wait an item accepts when its budget refuses it for now (in-flight reservations); longer, it fails.</summary>
    public TimeSpan MaxBudgetWait { get; set; } = TimeSpan.FromHours(1);

    /// <summary>True when <paramref name="now"/> is inside the off-peak window (always, when none is configured).</summary>
    public bool IsOpen(DateTimeOffset now)
    {
        if (!TryWindow(out var start, out var end))
        {
            return true;
        }

        var t = TimeOnly.FromTimeSpan(now.UtcDateTime.TimeOfDay);
        return start < end ? t >= start && t < end : t >= start || t < end;
    }

    /// <summary>The configured window, or false when the pool has none.</summary>
    public bool TryWindow(out TimeOnly start, out TimeOnly end)
    {
        start = end = default;
        return !string.IsNullOrWhiteSpace(OffPeakStart) && !string.IsNullOrWhiteSpace(OffPeakEnd)
            && TryParseTime(OffPeakStart, out start) && TryParseTime(OffPeakEnd, out end);
    }

    internal static bool TryParseTime(string? text, out TimeOnly time) =>
        TimeOnly.TryParseExact(text?.Trim(), ["HH:mm", "HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
}

/// <summary>Stops the host with the setting named when a batch pool setting is wrong.</summary>
public sealed class BatchPoolOptionsValidator(IOptions<ModelCatalogOptions> catalog) : IValidateOptions<BatchPoolOptions>
{
    public ValidateOptionsResult Validate(string? name, BatchPoolOptions options)
    {
        var section = string.IsNullOrEmpty(name) ? BatchPoolOptions.Section : $"{BatchPoolOptions.Section} (pool '{name}')";
        var failures = new List<string>();
        var tiers = catalog.Value.Tiers;
        if (string.IsNullOrWhiteSpace(options.Tier))
        {
            failures.Add($"{section}:Tier is required: the model tier batch items run on.");
        }
        else if (!tiers.Keys.Any(t => string.Equals(t, options.Tier, StringComparison.OrdinalIgnoreCase)))
        {
            failures.Add($"{section}:Tier '{options.Tier}' is not a configured tier (Models:Tiers has {string.Join(", ", tiers.Keys.Order())}).");
        }

        if (options.MaxConcurrent is < 1 or > 256)
        {
            failures.Add($"{section}:MaxConcurrent must be between 1 and 256 (got {options.MaxConcurrent}).");
        }

        var hasStart = !string.IsNullOrWhiteSpace(options.OffPeakStart);
        var hasEnd = !string.IsNullOrWhiteSpace(options.OffPeakEnd);
        if (hasStart != hasEnd)
        {
            failures.Add($"{section}:OffPeakStart and OffPeakEnd are set together or not at all.");
        }
        else if (hasStart)
        {
            var startOk = BatchPoolOptions.TryParseTime(options.OffPeakStart, out var start);
            var endOk = BatchPoolOptions.TryParseTime(options.OffPeakEnd, out var end);
            if (!startOk)
            {
                failures.Add($"{section}:OffPeakStart must be a UTC time of day HH:mm (got '{options.OffPeakStart}').");
            }

            if (!endOk)
            {
                failures.Add($"{section}:OffPeakEnd must be a UTC time of day HH:mm (got '{options.OffPeakEnd}').");
            }

            if (startOk && endOk && start == end)
            {
                failures.Add($"{section}:OffPeakStart and OffPeakEnd must differ; leave both unset for a pool that is always open.");
            }
        }

        if (options.PollInterval <= TimeSpan.Zero || options.PollInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{section}:PollInterval must be greater than 0 and at most 00:10:00 (got {options.PollInterval}).");
        }

        if (options.ReminderPeriod < TimeSpan.FromMinutes(1))
        {
            failures.Add($"{section}:ReminderPeriod must be at least 00:01:00 (got {options.ReminderPeriod}).");
        }

        if (options.MaxItemsPerJob is < 1 or > 10_000)
        {
            failures.Add($"{section}:MaxItemsPerJob must be between 1 and 10000 (got {options.MaxItemsPerJob}).");
        }

        if (options.MaxAttempts is < 1 or > 20)
        {
            failures.Add($"{section}:MaxAttempts must be between 1 and 20 (got {options.MaxAttempts}).");
        }

        if (options.MaxBudgetWait < TimeSpan.Zero)
        {
            failures.Add($"{section}:MaxBudgetWait must not be negative (got {options.MaxBudgetWait}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
