using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Cost;

/// <summary>Settings of the cost roll-ups and KPIs (configuration section <c>Telemetry:Cost</c>).</summary>
public sealed class CostOptions
{
    public const string Section = "Telemetry:Cost";

    /// <summary>
    /// How long after an hour ends its roll-up waits before it is computed once and stored as final. Trace events are
    /// written in batches shortly after the call; the grace covers those late writes.
    /// </summary>
    public TimeSpan RollupGrace { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a live (not yet closed) hour's roll-up is reused before the trace store is read again.</summary>
    public TimeSpan LiveCacheFor { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An incident needs at least this many blocked or errored calls of one app in one hour.</summary>
    public int IncidentMinEvents { get; set; } = 5;

    /// <summary>…and they must be at least this share (0–1] of the app's calls in that hour.</summary>
    public double IncidentMinShare { get; set; } = 0.5;

    /// <summary>How many apps' hour partitions a roll-up reads from the trace store at once.</summary>
    public int ScanParallelism { get; set; } = 16;
}

/// <summary>Stops the silo at start when a cost setting makes no sense, naming it.</summary>
public sealed class CostOptionsValidator : IValidateOptions<CostOptions>
{
    public ValidateOptionsResult Validate(string? name, CostOptions options)
    {
        var failures = new List<string>();
        if (options.RollupGrace < TimeSpan.Zero || options.RollupGrace > TimeSpan.FromDays(1))
        {
            failures.Add($"{CostOptions.Section}:{nameof(CostOptions.RollupGrace)} must be between 00:00:00 and 1.00:00:00; it is {options.RollupGrace}.");
        }

        if (options.LiveCacheFor < TimeSpan.Zero || options.LiveCacheFor > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{CostOptions.Section}:{nameof(CostOptions.LiveCacheFor)} must be between 00:00:00 and 00:10:00; it is {options.LiveCacheFor}.");
        }

        if (options.IncidentMinEvents < 1)
        {
            failures.Add($"{CostOptions.Section}:{nameof(CostOptions.IncidentMinEvents)} must be 1 or more; it is {options.IncidentMinEvents}.");
        }

        if (!(options.IncidentMinShare > 0 && options.IncidentMinShare <= 1))
        {
            failures.Add($"{CostOptions.Section}:{nameof(CostOptions.IncidentMinShare)} must be greater than 0 and at most 1; it is {options.IncidentMinShare}.");
        }

        if (options.ScanParallelism is < 1 or > 256)
        {
            failures.Add($"{CostOptions.Section}:{nameof(CostOptions.ScanParallelism)} must be between 1 and 256; it is {options.ScanParallelism}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
