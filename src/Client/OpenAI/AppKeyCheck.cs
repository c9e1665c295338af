using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Client.Infrastructure;

namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>An app key that passed <see cref="AppKeyCheck.AuthenticateAsync"/>, with the app's feature flags.</summary>
internal sealed record AuthenticatedApp(string AppId, IReadOnlyDictionary<string, bool> Flags);

/// <summary>
/// The app-key check of the front door's endpoints outside the governed call (<c>/v1/flags</c>, <c>/v1/feedback</c>):
/// a well-formed, unrevoked key of an app that is neither suspended nor retired. It does not count against quotas.
/// </summary>
internal static class AppKeyCheck
{
    /// <summary>The authenticated app, or null after writing the 401 (OpenAI error JSON) that says why.</summary>
    public static async Task<AuthenticatedApp?> AuthenticateAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        if (await OpenAIRequests.ReadApiKeyAsync(context) is not { } apiKey)
        {
            return null;
        }

        if (!ApiKeys.TryParse(apiKey, out var appId, out var keyId, out var secret))
        {
            await OpenAIErrors.WriteAsync(context, 401,
                "The API key is malformed; app keys look like mak.{appId}.{keyId}.{secret}.", OpenAIErrors.Authentication, code: "invalid_api_key");
            return null;
        }

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var flags = await cluster.RunAsync(_ => new ValueTask<IReadOnlyDictionary<string, bool>?>(app.GetFlagsAsync(keyId, secret)), context.RequestAborted);
        if (flags is null)
        {
            await OpenAIErrors.WriteAsync(context, 401,
                "The API key is not valid, was revoked, or its app is suspended or retired.", OpenAIErrors.Authentication, code: "invalid_api_key");
            return null;
        }

        return new AuthenticatedApp(appId, flags);
    }
}
