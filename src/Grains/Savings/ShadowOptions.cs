using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Savings;

/// <summary>
/// Shadow evaluations (configuration section <c>Savings:Shadow</c>): a share of live calls is also answered by a
/// second model and scored, as quality evidence for routing. Off by default (<see cref="Share"/> 0).
/// </summary>
public sealed class ShadowOptions
{
    public const string Section = "Savings:Shadow";

    /// <summary>Share of completed (not cached) calls that get a shadow evaluation, 0 to 1 (default 0: off).</summary>
    public double Share { get; set; }

    /// <summary>The platform budget shadow calls are charged to (default <c>platform:shadow</c>); never the app's. Unconfigured: no shadow runs.</summary>
    public string BudgetId { get; set; } = "platform:shadow";

    /// <summary>Most shadow evaluations running at once per silo (default 2); calls picked beyond it are dropped and counted.</summary>
    public int MaxConcurrent { get; set; } = 2;

    /// <summary>Scorer per query type: <c>overlap</c> (default) or <c>judge</c>, e.g. <c>Savings:Shadow:Scorers:summarise=judge</c>.</summary>
    public Dictionary<string, string> Scorers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Longest a shadow model call (and its judging) may take before it is given up (default 60 s).</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// The judge model of <see cref="JudgeScorer"/> (configuration section <c>Savings:Judge</c>). The judge is called
/// through the governed call with a platform app's key, so its calls are governed, traced and charged like any other.
/// </summary>
public sealed class JudgeOptions
{
    public const string Section = "Savings:Judge";

    /// <summary>App key (<c>mak.{appId}.{keyId}.{secret}</c>) of the platform app judge calls are made and charged as.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Model or tier name the judge calls ask for.</summary>
    public string? Model { get; set; }

    /// <summary>Output tokens a judge answer may take (default 16: a score is a few tokens).</summary>
    public int MaxOutputTokens { get; set; } = 16;
}

/// <summary>Stops the host with the setting named when a shadow setting is wrong.</summary>
public sealed class ShadowOptionsValidator(IOptions<JudgeOptions> judge) : IValidateOptions<ShadowOptions>
{
    public ValidateOptionsResult Validate(string? name, ShadowOptions options)
    {
        var failures = new List<string>();
        var s = ShadowOptions.Section;
        if (!(options.Share >= 0 && options.Share <= 1))
        {
            failures.Add($"{s}:{nameof(ShadowOptions.Share)} must be from 0 to 1 (got {options.Share}).");
        }

        if (string.IsNullOrWhiteSpace(options.BudgetId) || options.BudgetId.Length > 100)
        {
            failures.Add($"{s}:{nameof(ShadowOptions.BudgetId)} is required (at most 100 characters): the platform budget shadow calls are charged to.");
        }

        if (options.MaxConcurrent < 1)
        {
            failures.Add($"{s}:{nameof(ShadowOptions.MaxConcurrent)} must be at least 1 (got {options.MaxConcurrent}).");
        }

        if (options.CallTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{s}:{nameof(ShadowOptions.CallTimeout)} must be greater than 0 (got {options.CallTimeout}).");
        }

        var usesJudge = false;
        foreach (var (type, scorer) in options.Scorers)
        {
            if (QueryTypes.Parse(type) is null)
            {
                failures.Add($"{s}:{nameof(ShadowOptions.Scorers)}:{type} names no query type; use one of {string.Join(", ", QueryTypes.All)}.");
            }

            var chosen = scorer?.Trim();
            if (string.Equals(chosen, JudgeScorer.ScorerName, StringComparison.OrdinalIgnoreCase))
            {
                usesJudge = true;
            }
            else if (!string.Equals(chosen, OverlapScorer.ScorerName, StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{s}:{nameof(ShadowOptions.Scorers)}:{type} must be '{OverlapScorer.ScorerName}' or '{JudgeScorer.ScorerName}' (got '{scorer}').");
            }
        }

        var j = judge.Value;
        if (usesJudge && options.Share > 0)
        {
            if (string.IsNullOrWhiteSpace(j.ApiKey) || !Apps.ApiKeys.TryParse(j.ApiKey, out _, out _, out _))
            {
                failures.Add($"{JudgeOptions.Section}:{nameof(JudgeOptions.ApiKey)} must be an app key (mak.{{appId}}.{{keyId}}.{{secret}}) when a query type is scored by the judge.");
            }

            if (string.IsNullOrWhiteSpace(j.Model))
            {
                failures.Add($"{JudgeOptions.Section}:{nameof(JudgeOptions.Model)} is required when a query type is scored by the judge: the model or tier the judge calls ask for.");
            }
        }

        if (j.MaxOutputTokens < 1)
        {
            failures.Add($"{JudgeOptions.Section}:{nameof(JudgeOptions.MaxOutputTokens)} must be at least 1 (got {j.MaxOutputTokens}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
