using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Client.Infrastructure;

namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>An app's feature flags as the app reads them with its own key.</summary>
public sealed record FlagsResponse(IReadOnlyDictionary<string, bool> Flags);

/// <summary><c>GET /v1/flags</c>: the calling app's feature flags (Bearer app key), set by its owner in the admin API.</summary>
internal static class FlagsEndpoints
{
    public static void MapFlagsEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapGet("/flags", GetFlagsAsync)
            .WithName("GetFeatureFlags")
            .WithSummary("The calling app's feature flags.")
            .Produces<FlagsResponse>(StatusCodes.Status200OK)
            .Produces<OpenAIErrorResponse>(StatusCodes.Status401Unauthorized);
    }

    internal static async Task GetFlagsAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var apiKey = BearerTokens.Read(context.Request);
        if (apiKey is null)
        {
            await OpenAIErrors.WriteAsync(context, 401,
                "No app key provided: send it as 'Authorization: Bearer mak.…'.", OpenAIErrors.Authentication, code: "missing_api_key");
            return;
        }

        if (!ApiKeys.TryParse(apiKey, out var appId, out var keyId, out var secret))
        {
            await OpenAIErrors.WriteAsync(context, 401,
                "The API key is malformed; app keys look like mak.{appId}.{keyId}.{secret}.", OpenAIErrors.Authentication, code: "invalid_api_key");
            return;
        }

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var flags = await cluster.RunAsync(_ => new ValueTask<IReadOnlyDictionary<string, bool>?>(app.GetFlagsAsync(keyId, secret)), context.RequestAborted);
        if (flags is null)
        {
            await OpenAIErrors.WriteAsync(context, 401,
                "The API key is not valid, was revoked, or its app is suspended or retired.", OpenAIErrors.Authentication, code: "invalid_api_key");
            return;
        }

        await TypedResults.Ok(new FlagsResponse(flags)).ExecuteAsync(context);
    }
}
