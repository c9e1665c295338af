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
        if (await AppKeyCheck.AuthenticateAsync(context, grains, cluster) is not { } app)
        {
            return;
        }

        await TypedResults.Ok(new FlagsResponse(app.Flags)).ExecuteAsync(context);
    }
}
