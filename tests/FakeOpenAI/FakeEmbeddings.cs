using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace MicroApps.Orleans.FakeOpenAI;

/// <summary>The fake upstream's embeddings: deterministic vectors from a hash of the input, usage by word count.</summary>
public static class FakeEmbeddings
{
    /// <summary>Vector length when the request names no <c>dimensions</c>.</summary>
    public const int DefaultDimensions = 16;

    /// <summary>
    /// The unit-length vector the fake returns for <paramref name="input"/>: each component from SHA-256 of
    /// (input, block), so equal inputs always get equal vectors and different inputs (almost surely) different ones.
    /// </summary>
    public static float[] VectorOf(string input, int dimensions = DefaultDimensions)
    {
        var vector = new float[dimensions];
        var bytes = Encoding.UTF8.GetBytes(input);
        Span<byte> hash = stackalloc byte[32];
        double norm = 0;
        for (var block = 0; block * 8 < dimensions; block++)
        {
            var seeded = new byte[bytes.Length + 4];
            bytes.CopyTo(seeded, 0);
            BinaryPrimitives.WriteInt32LittleEndian(seeded.AsSpan(bytes.Length), block);
            SHA256.HashData(seeded, hash);
            for (var k = 0; k < 8 && block * 8 + k < dimensions; k++)
            {
                var raw = BinaryPrimitives.ReadUInt32LittleEndian(hash.Slice(k * 4, 4));
                var value = raw / (double)uint.MaxValue * 2 - 1;
                vector[block * 8 + k] = (float)value;
                norm += value * value;
            }
        }

        var scale = norm > 0 ? 1 / Math.Sqrt(norm) : 1;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(vector[i] * scale);
        }

        return vector;
    }

    /// <summary>Tokens the fake charges for an input: its whitespace-separated words.</summary>
    public static int TokensOf(string input) =>
        input.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
}
