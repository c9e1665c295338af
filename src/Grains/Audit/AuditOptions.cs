using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Audit;

/// <summary>Settings of the audit log (configuration section <c>Audit</c>).</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>
    /// How many days of audit entries are kept; older days are dropped whole. 0 keeps everything.
    /// </summary>
    public int RetentionDays { get; set; } = 365;
}

/// <summary>Stops the silo at start when the audit settings make no sense, naming the setting.</summary>
public sealed class AuditOptionsValidator : IValidateOptions<AuditOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditOptions options) =>
        options.RetentionDays is < 0 or > 36_500
            ? ValidateOptionsResult.Fail($"Audit:RetentionDays must be between 0 (keep forever) and 36500; it is {options.RetentionDays}.")
            : ValidateOptionsResult.Success;
}
