using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Runtime;

/// <summary>Platform caps of the hosted runtime (configuration section <c>Runtime</c>).</summary>
public sealed class RuntimeOptions
{
    public const string Section = "Runtime";

    /// <summary>Most tokens one run may use, whatever the manifest asks for.</summary>
    public int MaxTokensPerRun { get; set; } = 200_000;

    /// <summary>Most steps (model and connector calls) one run may take.</summary>
    public int MaxStepsPerRun { get; set; } = 50;

    /// <summary>Most wall-clock seconds one run may take.</summary>
    public int MaxSecondsPerRun { get; set; } = 300;

    public ConversationSettings Conversation { get; set; } = new();

    /// <summary>The manifest's limits (else the template's defaults), each capped by the platform.</summary>
    public Catalog.RunLimits Cap(Catalog.RunLimits limits) => new(
        Math.Min(limits.MaxTokens, MaxTokensPerRun),
        Math.Min(limits.MaxSteps, MaxStepsPerRun),
        Math.Min(limits.MaxSeconds, MaxSecondsPerRun));
}

/// <summary>Settings of chat-assistant conversations (<c>Runtime:Conversation</c>).</summary>
public sealed class ConversationSettings
{
    /// <summary>Most messages a conversation stores; older ones are dropped first (and counted as trimmed).</summary>
    public int MaxMessages { get; set; } = 200;
}

/// <summary>Stops the host with the setting named when a runtime cap is out of range.</summary>
public sealed class RuntimeOptionsValidator : IValidateOptions<RuntimeOptions>
{
    public ValidateOptionsResult Validate(string? name, RuntimeOptions options)
    {
        var failures = new List<string>();
        Check(nameof(RuntimeOptions.MaxTokensPerRun), options.MaxTokensPerRun, 1, 10_000_000, failures);
        Check(nameof(RuntimeOptions.MaxStepsPerRun), options.MaxStepsPerRun, 1, 10_000, failures);
        Check(nameof(RuntimeOptions.MaxSecondsPerRun), options.MaxSecondsPerRun, 1, 86_400, failures);
        if (options.Conversation is null)
        {
            failures.Add($"{RuntimeOptions.Section}:Conversation is required.");
        }
        else
        {
            Check("Conversation:MaxMessages", options.Conversation.MaxMessages, 2, 100_000, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(string field, int value, int min, int max, List<string> failures)
    {
        if (value < min || value > max)
        {
            failures.Add($"{RuntimeOptions.Section}:{field} must be between {min} and {max} (got {value}).");
        }
    }
}
