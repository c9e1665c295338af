using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Caching;

/// <summary>
/// Exact-match cache keys: SHA-256 over the scope (app id), the model selection, the normalised
/// messages, the sampling parameters and the prompt version. Every field is length-prefixed so no two
/// different requests can produce the same input by shifting text between fields.
/// </summary>
public static partial class CacheKey
{
    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Whitespace();

    /// <summary>Lower-case hex SHA-256 of the request as the cache sees it.</summary>
    /// <param name="scope">Tenancy boundary, the app id: the same request from another app gets another key.</param>
    /// <param name="model">The resolved selection (a model name or a tier), not the raw request string.</param>
    /// <param name="messages">The conversation; roles are compared case-insensitively, contents trimmed with whitespace runs collapsed.</param>
    /// <param name="parameters">Temperature, top_p, max_tokens and stop sequences are part of the key; <c>user</c> is not.</param>
    /// <param name="promptVersion">The app's prompt version, so a new prompt never serves old answers.</param>
    public static string Compute(string scope, string model, IReadOnlyList<ChatTurn> messages, ChatParameters parameters, string promptVersion)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(parameters);
        var builder = new StringBuilder();
        Append(builder, "v1");
        Append(builder, scope);
        Append(builder, model);
        Append(builder, promptVersion);
        Append(builder, messages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var message in messages)
        {
            Append(builder, message.Role.Trim().ToLowerInvariant());
            Append(builder, Normalize(message.Content));
        }

        Append(builder, parameters.Temperature?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "-");
        Append(builder, parameters.TopP?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "-");
        Append(builder, parameters.MaxTokens?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-");
        var stops = parameters.Stop ?? [];
        Append(builder, stops.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var stop in stops)
        {
            Append(builder, stop);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())));
    }

    /// <summary>The shard (0 … <paramref name="shardCount"/>−1) holding <paramref name="key"/>.</summary>
    public static long ShardFor(string key, int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ArgumentException.ThrowIfNullOrEmpty(key);
        Span<byte> bytes = stackalloc byte[8];
        if (key.Length < 16 || Convert.FromHexString(key.AsSpan(0, 16), bytes, out _, out _) != System.Buffers.OperationStatus.Done)
        {
            // Not one of our hex keys: hash it so any string still lands on a stable shard.
            SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 8).CopyTo(bytes);
        }

        return (long)(BinaryPrimitives.ReadUInt64BigEndian(bytes) % (ulong)shardCount);
    }

    internal static string Normalize(string? content) => Whitespace().Replace(content?.Trim() ?? "", " ");

    private static void Append(StringBuilder builder, string? value)
    {
        value ??= "";
        builder.Append(value.Length).Append(':').Append(value).Append('|');
    }
}
