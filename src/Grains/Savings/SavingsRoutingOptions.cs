using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Savings;

/// <summary>Cost-aware routing (configuration section <c>Savings:Routing</c>).</summary>
public sealed class SavingsRoutingOptions
{
    public const string Section = "Savings:Routing";

    /// <summary>
    /// Observations a model needs for a query type before routing trusts its estimate. Below it the model is not a
    /// routing target, and a call with no trusted cheaper model stays on the route the app asked for.
    /// </summary>
    public int MinEvidence { get; set; } = 20;

    /// <summary>How long a silo reuses a query type's quality table before asking its quality grain again.</summary>
    public TimeSpan QualityCacheDuration { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class SavingsRoutingOptionsValidator : IValidateOptions<SavingsRoutingOptions>
{
    public ValidateOptionsResult Validate(string? name, SavingsRoutingOptions options)
    {
        var errors = new List<string>();
        if (options.MinEvidence < 1)
        {
            errors.Add($"Savings:Routing:MinEvidence must be at least 1, got {options.MinEvidence}.");
        }

        if (options.QualityCacheDuration < TimeSpan.Zero)
        {
            errors.Add($"Savings:Routing:QualityCacheDuration must not be negative, got {options.QualityCacheDuration}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// The two <c>Savings:Sampling</c> keys the router step applies (the sampling helper owns the section's other keys
/// and computes each app's premium share): which tiers count as premium and where a sampled-out call goes when no
/// cheaper model has quality evidence. Bound read-only from the same section.
/// </summary>
public sealed class SavingsRoutingSamplingOptions
{
    public const string Section = "Savings:Sampling";

    public static IReadOnlyList<string> DefaultPremiumTiers { get; } = ["premium"];

    public const string DefaultFallbackTier = "standard";

    /// <summary>Tiers whose calls adaptive sampling may move; null means <c>["premium"]</c>.</summary>
    /// <remarks>An array, not a list: the configuration binder replaces arrays but appends to pre-filled lists.</remarks>
    public string[]? PremiumTiers { get; set; }

    /// <summary>The tier whose first model serves a sampled-out call when no cheaper model has evidence; null means <c>standard</c>.</summary>
    public string? FallbackTier { get; set; }

    public IReadOnlyList<string> EffectivePremiumTiers =>
        PremiumTiers is { Length: > 0 } configured
            ? configured.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t.Trim()).ToArray()
            : DefaultPremiumTiers;

    public string EffectiveFallbackTier => string.IsNullOrWhiteSpace(FallbackTier) ? DefaultFallbackTier : FallbackTier.Trim();
}
