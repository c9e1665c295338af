using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace MicroApps.Orleans;

/// <summary>
/// A deterministic position in [0, 1) for a text: the top 53 bits of its SHA-256, which fill a double's mantissa
/// exactly (uniform, never 1). SHA-256 rather than <see cref="string.GetHashCode()"/> so every silo and every process
/// restart agree; canary splits, prompt sampling, shadow picks and premium sampling all draw with it.
/// </summary>
public static class StableDraw
{
    /// <summary>Where <paramref name="text"/> falls in [0, 1).</summary>
    public static double Position(string text)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        var bits = BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11;
        return bits * (1.0 / (1UL << 53));
    }
}
