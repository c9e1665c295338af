using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

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
        var text = $"{appId}\n{canaryVersion}\n{stickyKey}";
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);

        // The top 53 bits fill a double's mantissa exactly: uniform in [0, 1), never 1.
        var bits = BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11;
        return bits * (1.0 / (1UL << 53));
    }

    /// <summary>True when the caller is served by the canary for a canary taking <paramref name="share"/> of callers.</summary>
    public static bool IsCanary(string appId, int canaryVersion, string stickyKey, double share) =>
        share > 0 && (share >= 1 || Position(appId, canaryVersion, stickyKey) < share);
}
