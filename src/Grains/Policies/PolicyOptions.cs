using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Policies;

/// <summary>Settings of policy evaluation in the governed call (configuration section <c>Policies</c>).</summary>
public sealed class PolicyOptions
{
    public const string Section = "Policies";

    /// <summary>
    /// How long a silo uses the policy set it has before asking the policy set grain for the active version again;
    /// a published version takes effect within this time. Zero asks on every call (tests).
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class PolicyOptionsValidator : IValidateOptions<PolicyOptions>
{
    public ValidateOptionsResult Validate(string? name, PolicyOptions options) =>
        options.RefreshInterval < TimeSpan.Zero || options.RefreshInterval > TimeSpan.FromHours(1)
            ? ValidateOptionsResult.Fail($"Policies:RefreshInterval must be between 00:00:00 and 01:00:00, got {options.RefreshInterval}.")
            : ValidateOptionsResult.Success;
}
