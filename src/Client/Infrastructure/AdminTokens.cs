using System.Security.Cryptography;
using System.Text;

namespace MicroApps.Orleans.Client.Infrastructure;

/// <summary>Checks a presented admin token against <c>FrontDoor:AdminToken</c>.</summary>
internal static class AdminTokens
{
    /// <summary>Constant time in the token's content; hashing first also hides its length.</summary>
    public static bool Matches(string? presented, string expected) =>
        presented is not null &&
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
