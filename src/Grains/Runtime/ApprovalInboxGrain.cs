using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Runtime;

/// <summary>Stored state of an app's workflow inbox. Never renumber the ids.</summary>
[GenerateSerializer, Alias("microapps.ApprovalInboxState")]
public sealed class ApprovalInboxState
{
    /// <summary>The latest summary of each workflow, by workflow id.</summary>
    [Id(0)] public Dictionary<string, ApprovalWorkflowSummary> Workflows { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The workflows of one app (key: app id), for listing. Summaries arrive from the workflows after each of their
/// changes, possibly late or twice: the highest revision wins. Open workflows are always kept; final ones beyond
/// <c>Workflows:InboxRetainedFinal</c> are dropped oldest first (the workflow grains themselves keep everything).
/// </summary>
public sealed class ApprovalInboxGrain(
    [PersistentState("approvalInbox", "store")] IPersistentState<ApprovalInboxState> state,
    IOptions<ApprovalWorkflowOptions> options) : Grain, IApprovalInboxGrain
{
    public async Task RecordAsync(ApprovalWorkflowSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var workflows = state.State.Workflows;
        if (workflows.TryGetValue(summary.WorkflowId, out var kept) && kept.Revision >= summary.Revision)
        {
            return;
        }

        workflows[summary.WorkflowId] = summary with { Approvers = summary.Approvers.ToArray(), EscalateTo = summary.EscalateTo.ToArray() };
        var excess = workflows.Values.Count(w => ApprovalWorkflowStates.IsFinal(w.State)) - options.Value.InboxRetainedFinal;
        if (excess > 0)
        {
            foreach (var old in workflows.Values.Where(w => ApprovalWorkflowStates.IsFinal(w.State)).OrderBy(w => w.UpdatedAt).Take(excess).ToList())
            {
                workflows.Remove(old.WorkflowId);
            }
        }

        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Not on record: reload rather than list what was never stored. The workflow retries its write.
            DeactivateOnIdle();
            throw;
        }
    }

    public Task<IReadOnlyList<ApprovalWorkflowSummary>> ListAsync(ApprovalWorkflowState? only) =>
        Task.FromResult<IReadOnlyList<ApprovalWorkflowSummary>>(state.State.Workflows.Values
            .Where(w => only is null || w.State == only)
            .OrderByDescending(w => w.CreatedAt)
            .ThenBy(w => w.WorkflowId, StringComparer.Ordinal)
            .ToArray());
}
