using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Savings;

/// <summary>
/// Adaptive premium sampling (configuration section <c>Savings:Sampling</c>): how often an app's share of premium
/// requests is recomputed from its budget's burn rate, how fast it moves, and which tiers it applies to.
/// </summary>
public sealed class SamplingOptions
{
    public const string Section = "Savings:Sampling";

    /// <summary>Least time between two adjustments of one app's share (default 15 s, so a change shows within a minute).</summary>
    public TimeSpan AdjustEvery { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Tiers whose requests are sampled (default <c>premium</c>). Empty after binding means the default.</summary>
    public List<string> PremiumTiers { get; set; } = [];

    /// <summary>Tier a premium request not kept on premium is served by (default <c>standard</c>); the router step applies it.</summary>
    public string FallbackTier { get; set; } = "standard";

    /// <summary>
    /// How far the budget's spent share may run ahead of the period's elapsed share before the premium share falls
    /// (absolute, 0 to 1; default 0.05: at 40% of the day, up to 45% of the limit spent is on pace).
    /// </summary>
    public double Tolerance { get; set; } = 0.05;

    /// <summary>Factor the share is multiplied by when the budget burns too fast (0 to 1 exclusive; default 0.5).</summary>
    public double DecreaseFactor { get; set; } = 0.5;

    /// <summary>Amount the share rises by per adjustment while the budget is under pace (0 to 1; default 0.1).</summary>
    public double IncreaseStep { get; set; } = 0.1;

    /// <summary>The sampled tiers, defaulted.</summary>
    public IReadOnlyList<string> EffectivePremiumTiers => PremiumTiers.Count > 0 ? PremiumTiers : ["premium"];

    /// <summary>True when requests of <paramref name="tier"/> are sampled.</summary>
    public bool IsPremiumTier(string? tier) =>
        tier is not null && EffectivePremiumTiers.Contains(tier, StringComparer.OrdinalIgnoreCase);
}

/// <summary>Stops the host with the setting named when a sampling setting is out of range.</summary>
public sealed class SamplingOptionsValidator : IValidateOptions<SamplingOptions>
{
    public ValidateOptionsResult Validate(string? name, SamplingOptions options)
    {
        var failures = new List<string>();
        var s = SamplingOptions.Section;
        if (options.AdjustEvery <= TimeSpan.Zero || options.AdjustEvery > TimeSpan.FromHours(1))
        {
            failures.Add($"{s}:{nameof(SamplingOptions.AdjustEvery)} must be greater than 0 and at most 01:00:00 (got {options.AdjustEvery}).");
        }

        if (options.PremiumTiers.Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"{s}:{nameof(SamplingOptions.PremiumTiers)} must not contain an empty tier name.");
        }

        if (string.IsNullOrWhiteSpace(options.FallbackTier))
        {
            failures.Add($"{s}:{nameof(SamplingOptions.FallbackTier)} is required: the tier premium requests not kept on premium go to.");
        }
        else if (options.IsPremiumTier(options.FallbackTier))
        {
            failures.Add($"{s}:{nameof(SamplingOptions.FallbackTier)} '{options.FallbackTier}' is itself a premium tier; it must be a cheaper one.");
        }

        if (!(options.Tolerance >= 0 && options.Tolerance < 1))
        {
            failures.Add($"{s}:{nameof(SamplingOptions.Tolerance)} must be at least 0 and below 1 (got {options.Tolerance}).");
        }

        if (!(options.DecreaseFactor > 0 && options.DecreaseFactor < 1))
        {
            failures.Add($"{s}:{nameof(SamplingOptions.DecreaseFactor)} must be greater than 0 and below 1 (got {options.DecreaseFactor}).");
        }

        if (!(options.IncreaseStep > 0 && options.IncreaseStep <= 1))
        {
            failures.Add($"{s}:{nameof(SamplingOptions.IncreaseStep)} must be greater than 0 and at most 1 (got {options.IncreaseStep}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
