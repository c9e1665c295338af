using System.Security.Cryptography;
using System.Text;

namespace MicroApps.Orleans.Apps;

/// <summary>Makes app key secrets and checks them against salted SHA-256 hashes in constant time.</summary>
public static class KeyHasher
{
    public static string NewKeyId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>32 random bytes, base64url without padding (never contains '.').</summary>
    public static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] NewSalt() => RandomNumberGenerator.GetBytes(16);

    public static byte[] Hash(byte[] salt, string secret)
    {
        var secretBytes = Encoding.UTF8.GetBytes(secret);
        var input = new byte[salt.Length + secretBytes.Length];
        salt.CopyTo(input, 0);
        secretBytes.CopyTo(input, salt.Length);
        return SHA256.HashData(input);
    }

    public static bool Matches(byte[] salt, byte[] expectedHash, string secret) =>
        CryptographicOperations.FixedTimeEquals(Hash(salt, secret), expectedHash);
}
