using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Caching;

/// <summary>Near-duplicate cache settings (configuration section <c>Savings:NearDuplicate</c>).</summary>
public sealed class NearDuplicateOptions
{
    public const string Section = "Savings:NearDuplicate";

    /// <summary>Platform switch: false turns the near-duplicate cache off for every app, whatever the app asks for.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Similarity (estimated Jaccard over word shingles of two texts with the same content words) an answer must reach
    /// to be served, when the app sets no threshold. Measured on tests/UnitTests/Caching/near-duplicate-corpus.tsv:
    /// see docs/savings-cache.md.
    /// </summary>
    public double DefaultThreshold { get; set; } = 0.7;

    /// <summary>Entries one app's near-duplicate cache keeps before it evicts its oldest.</summary>
    public int MaxEntriesPerApp { get; set; } = 1_000;
}

public sealed class NearDuplicateOptionsValidator : IValidateOptions<NearDuplicateOptions>
{
    public ValidateOptionsResult Validate(string? name, NearDuplicateOptions options)
    {
        var errors = new List<string>();
        if (options.DefaultThreshold is not (> 0 and <= 1))
        {
            errors.Add($"{NearDuplicateOptions.Section}:DefaultThreshold must be above 0 and at most 1, got {options.DefaultThreshold}.");
        }

        if (options.MaxEntriesPerApp < 1)
        {
            errors.Add($"{NearDuplicateOptions.Section}:MaxEntriesPerApp must be at least 1, got {options.MaxEntriesPerApp}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Single-flight settings (configuration section <c>Savings:SingleFlight</c>).</summary>
public sealed class SingleFlightOptions
{
    public const string Section = "Savings:SingleFlight";

    /// <summary>Largest <see cref="MaxWait"/>: it must stay below Orleans' grain-call response timeout (30 s by default).</summary>
    public static readonly TimeSpan MaxWaitLimit = TimeSpan.FromSeconds(25);

    /// <summary>False: identical calls in flight at the same time each call the backend.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How long a call waits for an identical call in flight before calling the backend itself; also the age after which a
    /// flight whose leader never reported is taken over.
    /// </summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(20);
}

public sealed class SingleFlightOptionsValidator : IValidateOptions<SingleFlightOptions>
{
    public ValidateOptionsResult Validate(string? name, SingleFlightOptions options) =>
        options.MaxWait <= TimeSpan.Zero || options.MaxWait > SingleFlightOptions.MaxWaitLimit
            ? ValidateOptionsResult.Fail($"{SingleFlightOptions.Section}:MaxWait must be above 0 and at most {SingleFlightOptions.MaxWaitLimit} (below the grain-call timeout), got {options.MaxWait}.")
            : ValidateOptionsResult.Success;
}
