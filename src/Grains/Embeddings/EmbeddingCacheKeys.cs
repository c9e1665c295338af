using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MicroApps.Orleans.Caching;

namespace MicroApps.Orleans.Embeddings;

/// <summary>
/// Keys and scopes of the embedding cache. A key is SHA-256 over (model, dimensions, normalised text), length-prefixed
/// so no two different inputs share one. The scope is the tenancy boundary: the app id, or <see cref="PublicScope"/>
/// for inputs the caller marked public and in which the PII scan found nothing.
/// </summary>
public static class EmbeddingCacheKeys
{
    /// <summary>The scope shared by every app. App ids cannot be it: they never contain ':'.</summary>
    public const string PublicScope = "public:embeddings";

    /// <summary>Lower-case hex SHA-256 of the input as the cache sees it (trimmed, whitespace runs collapsed).</summary>
    public static string Compute(string model, int? dimensions, string input)
    {
        var builder = new StringBuilder();
        Append(builder, "emb-v1");
        Append(builder, model.Trim().ToLowerInvariant());
        Append(builder, dimensions?.ToString(CultureInfo.InvariantCulture) ?? "-");
        Append(builder, CacheKey.Normalize(input));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())));
    }

    /// <summary>The scope of one input: shared only when marked public and free of PII.</summary>
    public static string ScopeOf(string appId, bool markedPublic, bool hasPii) =>
        markedPublic && !hasPii ? PublicScope : appId;

    private static void Append(StringBuilder builder, string value) =>
        builder.Append(value.Length).Append(':').Append(value).Append('|');
}
