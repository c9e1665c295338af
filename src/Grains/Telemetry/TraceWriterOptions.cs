using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Telemetry;

/// <summary>The durable trace pipeline (configuration section <c>Telemetry:Traces</c>).</summary>
public sealed partial class TraceWriterOptions
{
    public const string Section = "Telemetry:Traces";

    /// <summary>False keeps only the in-memory ring of recent events (nothing is stored durably).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Most events one store write carries (group commit of everything queued, up to this).</summary>
    public int MaxBatch { get; set; } = 500;

    /// <summary>
    /// How long a call waits for its event to be stored before it is answered anyway; the event then stays
    /// queued in memory and is written in the background.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>First wait before a failed write is retried; doubles per failure up to <see cref="RetryBackoffMax"/>.</summary>
    public TimeSpan RetryBackoffMin { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between retries of a failing store.</summary>
    public TimeSpan RetryBackoffMax { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Most events kept in memory while the store fails; beyond it the oldest are dropped (logged as errors),
    /// so a long outage cannot exhaust the silo's memory.
    /// </summary>
    public int MaxRetained { get; set; } = 200_000;

    /// <summary>
    /// How far back <see cref="ITraceStore.FindAsync"/> (and so feedback) looks for a request's trace: the app's hours
    /// within this window are read newest first. A request older than this is not found.
    /// </summary>
    public TimeSpan LookupWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Prefix of the Azure Table names: <c>{prefix}events</c>, <c>{prefix}requests</c>, <c>{prefix}samples</c>.</summary>
    public string TablePrefix { get; set; } = "traces";

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{0,49}$")]
    internal static partial Regex TablePrefixPattern();
}

public sealed class TraceWriterOptionsValidator : IValidateOptions<TraceWriterOptions>
{
    public ValidateOptionsResult Validate(string? name, TraceWriterOptions options)
    {
        var errors = new List<string>();
        if (options.MaxBatch is < 1 or > 10_000)
        {
            errors.Add($"Telemetry:Traces:MaxBatch must be between 1 and 10000, got {options.MaxBatch}.");
        }

        if (options.WriteTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Telemetry:Traces:WriteTimeout must be positive, got {options.WriteTimeout}.");
        }

        if (options.RetryBackoffMin <= TimeSpan.Zero)
        {
            errors.Add($"Telemetry:Traces:RetryBackoffMin must be positive, got {options.RetryBackoffMin}.");
        }

        if (options.RetryBackoffMax < options.RetryBackoffMin)
        {
            errors.Add($"Telemetry:Traces:RetryBackoffMax must be at least RetryBackoffMin ({options.RetryBackoffMin}), got {options.RetryBackoffMax}.");
        }

        if (options.MaxRetained < options.MaxBatch)
        {
            errors.Add($"Telemetry:Traces:MaxRetained must be at least MaxBatch ({options.MaxBatch}), got {options.MaxRetained}.");
        }

        if (options.LookupWindow < TimeSpan.FromHours(1) || options.LookupWindow > TimeSpan.FromDays(366))
        {
            errors.Add($"Telemetry:Traces:LookupWindow must be between 01:00:00 and 366.00:00:00, got {options.LookupWindow}.");
        }

        if (options.TablePrefix is null || !TraceWriterOptions.TablePrefixPattern().IsMatch(options.TablePrefix))
        {
            errors.Add($"Telemetry:Traces:TablePrefix must be a letter followed by at most 49 letters or digits (an Azure Table name prefix), got '{options.TablePrefix}'.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
