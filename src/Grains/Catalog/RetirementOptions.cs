using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Catalog;

/// <summary>What lists an app for retirement (configuration section <c>Catalog:Retirement</c>): little use and high cost over a window.</summary>
public sealed class RetirementOptions
{
    public const string Section = "Catalog:Retirement";

    /// <summary>Window length in days, ending now.</summary>
    public int Days { get; set; } = 30;

    /// <summary>An app with at most this many calls per day on average over the window is little used.</summary>
    public double MaxCallsPerDay { get; set; } = 1;

    /// <summary>An app whose calls cost at least this much (USD) over the window costs a lot.</summary>
    public decimal MinCostUsd { get; set; } = 1m;

    public RetirementCriteria ToCriteria() => new(Days, MaxCallsPerDay, MinCostUsd);
}

/// <summary>Stops the silo at start when a retirement setting makes no sense, naming it.</summary>
public sealed class RetirementOptionsValidator : IValidateOptions<RetirementOptions>
{
    public ValidateOptionsResult Validate(string? name, RetirementOptions options)
    {
        var failures = RetirementCriteriaRules.Problems(options.ToCriteria())
            .Select(p => $"{RetirementOptions.Section}:{p.Setting} {p.Message}")
            .ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Ranges of the retirement criteria, shared by the options validator and the grain (for per-request criteria).</summary>
public static class RetirementCriteriaRules
{
    /// <summary>Longest window: the cost roll-ups answer at most 366 days.</summary>
    public const int MaxDays = 366;

    /// <summary>What is wrong with <paramref name="criteria"/>, by setting name (<c>Days</c>, <c>MaxCallsPerDay</c>, <c>MinCostUsd</c>).</summary>
    public static IReadOnlyList<(string Setting, string Message)> Problems(RetirementCriteria criteria)
    {
        var problems = new List<(string, string)>();
        if (criteria.Days is < 1 or > MaxDays)
        {
            problems.Add((nameof(RetirementOptions.Days), $"must be between 1 and {MaxDays}; it is {criteria.Days}."));
        }

        if (!double.IsFinite(criteria.MaxCallsPerDay) || criteria.MaxCallsPerDay < 0)
        {
            problems.Add((nameof(RetirementOptions.MaxCallsPerDay), $"must be 0 or more; it is {criteria.MaxCallsPerDay}."));
        }

        if (criteria.MinCostUsd < 0)
        {
            problems.Add((nameof(RetirementOptions.MinCostUsd), $"must be 0 or more; it is {criteria.MinCostUsd}."));
        }

        return problems;
    }
}
