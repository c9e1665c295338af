using Orleans.Concurrency;

namespace MicroApps.Orleans.Audit;

/// <summary>
/// Storage of a run of consecutive audit entries, keyed <c>{log}/{yyyy-MM-dd}/{n}</c>. Only the audit log grain
/// calls it (the interface is not in the public contracts): it appends strictly after its tail, never rewrites an
/// entry, and is dropped whole by retention.
/// </summary>
public interface IAuditSegmentGrain : IGrainWithStringKey
{
    /// <summary>Appends entries that continue this segment's tail; durable before the reply.</summary>
    Task AppendAsync(IReadOnlyList<AuditEntry> entries);

    /// <summary>Every entry, oldest first.</summary>
    [ReadOnly]
    Task<IReadOnlyList<AuditEntry>> GetAsync();

    /// <summary>The last entry, or null when the segment is empty.</summary>
    [ReadOnly]
    Task<AuditEntry?> GetTailAsync();

    /// <summary>Removes the segment's state (retention only).</summary>
    Task DropAsync();
}

/// <inheritdoc cref="IAuditSegmentGrain"/>
public sealed class AuditSegmentGrain(
    [PersistentState("auditSegment", "store")] IPersistentState<AuditSegmentState> state) : Grain, IAuditSegmentGrain
{
    /// <summary>
    /// Entries per segment. With reasons capped at 2,000 characters a full segment stays well below the ~1 MB an
    /// Azure Table entity holds (typical entries are a few hundred bytes, so typical segments are tens of KB).
    /// </summary>
    public const int Capacity = 128;

    public async Task AppendAsync(IReadOnlyList<AuditEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }

        var stored = state.State.Entries;
        var expected = stored.Count == 0 ? entries[0].Sequence : stored[^1].Sequence + 1;
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Sequence != expected + i)
            {
                throw new InvalidOperationException(
                    $"Audit segment '{this.GetPrimaryKeyString()}' takes entries after {expected - 1} in order; got {entries[i].Sequence}.");
            }
        }

        if (stored.Count + entries.Count > Capacity)
        {
            throw new InvalidOperationException($"Audit segment '{this.GetPrimaryKeyString()}' holds at most {Capacity} entries.");
        }

        stored.AddRange(entries);
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Perhaps not durable (or durable with a lost reply): reload from storage on the next call, so the
            // log's recovery sees the true tail.
            stored.RemoveRange(stored.Count - entries.Count, entries.Count);
            DeactivateOnIdle();
            throw;
        }
    }

    public Task<IReadOnlyList<AuditEntry>> GetAsync() => Task.FromResult<IReadOnlyList<AuditEntry>>(state.State.Entries.ToArray());

    public Task<AuditEntry?> GetTailAsync() => Task.FromResult(state.State.Entries.Count == 0 ? null : state.State.Entries[^1]);

    public async Task DropAsync()
    {
        await state.ClearStateAsync();
        state.State = new AuditSegmentState();
        DeactivateOnIdle();
    }
}
