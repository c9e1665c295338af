using Microsoft.Net.Http.Headers;

namespace MicroApps.Orleans.Client.OpenAI;

internal static class BearerTokens
{
    /// <summary>The token of an <c>Authorization: Bearer …</c> header, or null.</summary>
    public static string? Read(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.Authorization];
        if (header.Count != 1 || header[0] is not { } value)
        {
            return null;
        }

        const string scheme = "Bearer ";
        if (!value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = value.AsSpan(scheme.Length).Trim();
        return token.IsEmpty ? null : token.ToString();
    }
}
