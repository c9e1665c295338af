namespace MicroApps.Orleans.Apps;

/// <summary>
/// The allowed moves between <see cref="VersionState"/>s of one app version. Plain and stateless: the app grain
/// asks it before every transition, and refusals name the state and what it could have moved to.
/// </summary>
public static class VersionLifecycle
{
    private static readonly Dictionary<VersionState, VersionState[]> AllowedMoves = new()
    {
        [VersionState.Draft] = [VersionState.Submitted],

        // Back to Draft when a gate fails; an approver approves or rejects.
        [VersionState.Submitted] = [VersionState.Draft, VersionState.Approved, VersionState.Rejected],
        [VersionState.Approved] = [VersionState.Canary, VersionState.Published],
        [VersionState.Rejected] = [],
        [VersionState.Canary] = [VersionState.Published, VersionState.RolledBack],
        [VersionState.Published] = [VersionState.Superseded, VersionState.RolledBack],
        [VersionState.RolledBack] = [],

        // A rollback of the published version restores the one it superseded.
        [VersionState.Superseded] = [VersionState.Published],
    };

    /// <summary>States <paramref name="from"/> may move to (empty for the terminal ones).</summary>
    public static IReadOnlyList<VersionState> AllowedFrom(VersionState from) =>
        AllowedMoves.TryGetValue(from, out var to) ? to : [];

    public static bool CanMove(VersionState from, VersionState to) => AllowedFrom(from).Contains(to);

    /// <summary>Why the move is refused, naming the state and what is allowed; null when it is allowed.</summary>
    public static string? Refusal(string appId, int version, VersionState from, VersionState to)
    {
        if (CanMove(from, to))
        {
            return null;
        }

        var allowed = AllowedFrom(from);
        var what = allowed.Count == 0
            ? "it is final and cannot move to any other state"
            : $"it can only move to {string.Join(" or ", allowed.Select(Name))}";
        return $"version {version} of app '{appId}' is {Name(from)}; {what}, not to {Name(to)}";
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> with <see cref="Refusal"/> when the move is not allowed.</summary>
    public static void EnsureCanMove(string appId, int version, VersionState from, VersionState to)
    {
        if (Refusal(appId, version, from, to) is { } refusal)
        {
            throw new InvalidOperationException(refusal);
        }
    }

    /// <summary>The state as the admin API spells it (lower-case, e.g. <c>rolled_back</c>).</summary>
    public static string Name(VersionState state) => state switch
    {
        VersionState.RolledBack => "rolled_back",
        _ => state.ToString().ToLowerInvariant(),
    };
}
