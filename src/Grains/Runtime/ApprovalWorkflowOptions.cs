using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Runtime;

/// <summary>Approvals-bot workflows (configuration section <c>Workflows</c>).</summary>
public sealed class ApprovalWorkflowOptions
{
    public const string Section = "Workflows";

    /// <summary>
    /// How often an open workflow, or one with an undelivered notification, is woken by its reminder, so deadlines
    /// and retries happen after a deactivation or a silo failure (Orleans refuses reminder periods under one minute).
    /// </summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The wait before a failed notification is retried; each later wait doubles, up to <see cref="ReminderPeriod"/>.</summary>
    public TimeSpan NotificationRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many final (approved, rejected, timed out) workflows each app's inbox lists; open ones are always listed.</summary>
    public int InboxRetainedFinal { get; set; } = 500;
}

/// <summary>Checks <see cref="ApprovalWorkflowOptions"/> at start, naming the key that is wrong.</summary>
public sealed class ApprovalWorkflowOptionsValidator : IValidateOptions<ApprovalWorkflowOptions>
{
    public ValidateOptionsResult Validate(string? name, ApprovalWorkflowOptions options)
    {
        var errors = new List<string>();
        if (options.ReminderPeriod < TimeSpan.FromMinutes(1))
        {
            errors.Add($"Workflows:ReminderPeriod must be at least 00:01:00 (Orleans' shortest reminder period), got {options.ReminderPeriod}.");
        }

        if (options.NotificationRetryDelay <= TimeSpan.Zero)
        {
            errors.Add($"Workflows:NotificationRetryDelay must be positive, got {options.NotificationRetryDelay}.");
        }

        if (options.InboxRetainedFinal < 1)
        {
            errors.Add($"Workflows:InboxRetainedFinal must be at least 1, got {options.InboxRetainedFinal}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
