namespace MicroApps.Orleans.Apps;

/// <summary>
/// Submitted versions waiting for an approver (key 0). App grains add a version when its gates pass and it needs
/// an approver, and remove it when it is decided; both are idempotent, so a retried call changes nothing.
/// </summary>
public sealed class ApprovalQueueGrain(
    [PersistentState("approvals", "store")] IPersistentState<ApprovalQueueState> state) : Grain, IApprovalQueueGrain
{
    public async Task AddAsync(PendingApproval pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var index = state.State.Pending.FindIndex(p => p.AppId == pending.AppId && p.Version == pending.Version);
        if (index >= 0)
        {
            if (state.State.Pending[index] == pending)
            {
                return;
            }

            state.State.Pending[index] = pending;
        }
        else
        {
            state.State.Pending.Add(pending);
        }

        await state.WriteStateAsync();
    }

    public async Task RemoveAsync(string appId, int version)
    {
        if (state.State.Pending.RemoveAll(p => p.AppId == appId && p.Version == version) > 0)
        {
            await state.WriteStateAsync();
        }
    }

    public Task<IReadOnlyList<PendingApproval>> ListAsync() =>
        Task.FromResult<IReadOnlyList<PendingApproval>>([.. state.State.Pending.OrderBy(p => p.SubmittedAt).ThenBy(p => p.AppId, StringComparer.Ordinal).ThenBy(p => p.Version)]);
}

[GenerateSerializer, Alias("microapps.ApprovalQueueState")]
public sealed class ApprovalQueueState
{
    [Id(0)] public List<PendingApproval> Pending { get; set; } = [];
}
