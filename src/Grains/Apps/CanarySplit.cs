
namespace MicroApps.Orleans.Apps;

/// <summary>
/// Decides which production callers a canary serves: a stable hash of (app, canary version, sticky key) placed in
/// [0, 1) and compared with the share. The same caller stays on the same side for the life of one canary, and a
/// new canary version reshuffles who is in it. SHA-256, not <see cref="string.GetHashCode()"/>, so every silo and
/// every process restart agree.
/// </summary>
public static class CanarySplit
{
    /// <summary>Where a caller falls in [0, 1) for this canary.</summary>
    public static double Position(string appId, int canaryVersion, string stickyKey)
    {
        return StableDraw.Position($"{appId}\n{canaryVersion}\n{stickyKey}");
    }

    /// <summary>True when the caller is served by the canary for a canary taking <paramref name="share"/> of callers.</summary>
    public static bool IsCanary(string appId, int canaryVersion, string stickyKey, double share) =>
        share > 0 && (share >= 1 || Position(appId, canaryVersion, stickyKey) < share);
}
