namespace MicroApps.Orleans.Persistence;

/// <summary>
/// Makes in-memory grain state durable with at most one write in flight. Callers mutate the state
/// synchronously, then await <see cref="PersistAsync"/>: every caller that mutated while a write was
/// running shares the next write instead of queueing a write of its own (the Chirper pattern).
/// Only for grains whose turns interleave (reentrant, or timers with Interleave), and only from the
/// grain's own scheduler, which keeps the fields below single-threaded.
/// </summary>
internal sealed class GroupCommit(Func<Task> write)
{
    private Task? _inFlight;
    private long _version;
    private long _durableVersion;

    /// <summary>Marks the state changed; the change is durable once a later <see cref="PersistAsync"/> returns.</summary>
    public void MarkChanged() => _version++;

    public bool HasUnsavedChanges => _durableVersion < _version;

    /// <summary>Returns once every change marked before the call is durable. Throws when the write fails.</summary>
    public async Task PersistAsync()
    {
        var target = _version;
        while (_durableVersion < target)
        {
            _inFlight ??= WriteAsync();
            await _inFlight;
        }
    }

    private async Task WriteAsync()
    {
        // The storage provider serialises the state before its first await, so the version
        // captured here is exactly what this write makes durable.
        var writing = _version;
        try
        {
            await write();
            _durableVersion = Math.Max(_durableVersion, writing);
        }
        finally
        {
            _inFlight = null;
        }
    }
}
