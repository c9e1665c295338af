using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Governance;

/// <summary>Settings of the promotion gates (section <c>Governance</c>).</summary>
public sealed class PromotionGateOptions
{
    public const string Section = "Governance";

    /// <summary>Data classes an external-audience app may not declare (<c>Governance:RestrictedDataClasses</c>).</summary>
    /// <remarks>When the section names none, <see cref="DefaultRestrictedDataClasses"/> apply.</remarks>
    public List<string> RestrictedDataClasses { get; set; } = [];

    /// <summary>Regression tests run at once during a promotion (<c>Governance:RegressionTestParallelism</c>).</summary>
    public int RegressionTestParallelism { get; set; } = 4;

    public static IReadOnlyList<string> DefaultRestrictedDataClasses { get; } = ["ssn", "card_number", "iban"];

    /// <summary>The configured list, or the defaults when none is configured.</summary>
    public IReadOnlyList<string> EffectiveRestrictedDataClasses =>
        RestrictedDataClasses.Where(c => !string.IsNullOrWhiteSpace(c)).Select(c => c.Trim()).ToList() is { Count: > 0 } configured
            ? configured
            : DefaultRestrictedDataClasses;
}

/// <summary>Stops the silo at start when a promotion gate setting is out of range, naming the setting.</summary>
public sealed class PromotionGateOptionsValidator : IValidateOptions<PromotionGateOptions>
{
    public const int MaxRegressionTestParallelism = 64;

    public ValidateOptionsResult Validate(string? name, PromotionGateOptions options) =>
        options.RegressionTestParallelism is < 1 or > MaxRegressionTestParallelism
            ? ValidateOptionsResult.Fail(
                $"{PromotionGateOptions.Section}:{nameof(PromotionGateOptions.RegressionTestParallelism)} must be between 1 and {MaxRegressionTestParallelism}; it is {options.RegressionTestParallelism}.")
            : ValidateOptionsResult.Success;
}
