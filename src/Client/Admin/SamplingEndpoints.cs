using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Savings;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>An app's adaptive premium sampling as <c>GET /admin/apps/{appId}/savings</c> shows it.</summary>
/// <param name="AppId">The app.</param>
/// <param name="Sampling">True when the app asks for adaptive premium sampling (<c>savings.sampling</c>).</param>
/// <param name="PremiumShare">Share of premium requests kept on premium now (null without sampling).</param>
/// <param name="MinShare">Lower bound of the share.</param>
/// <param name="MaxShare">Upper bound of the share.</param>
/// <param name="BurnRatio">Spent share of the budget over the elapsed share of its period at the last adjustment (1 = on pace).</param>
/// <param name="SpentShare">Spent share of the budget's limit at the last adjustment.</param>
/// <param name="ElapsedShare">Elapsed share of the budget's period at the last adjustment.</param>
/// <param name="LastAdjustedAt">When the share was last recomputed (null before the app's first sampled call).</param>
/// <param name="BudgetId">The budget the burn rate is read from.</param>
public sealed record AppSavingsView(
    string AppId,
    bool Sampling,
    double? PremiumShare,
    double? MinShare,
    double? MaxShare,
    double? BurnRatio,
    double? SpentShare,
    double? ElapsedShare,
    DateTimeOffset? LastAdjustedAt,
    string BudgetId)
{
    public static AppSavingsView From(PremiumShareStatus s) =>
        new(s.AppId, s.Sampling, s.PremiumShare, s.MinShare, s.MaxShare, s.BurnRatio, s.SpentShare, s.ElapsedShare, s.LastAdjustedAt, s.BudgetId);
}

/// <summary><c>GET /admin/apps/{appId}/savings</c>: the app's adaptive premium share and the burn rate behind it (every role).</summary>
internal static class SamplingEndpoints
{
    internal static void MapSamplingEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/apps/{appId}/savings", GetAsync)
            .WithName("GetAppSavings").AllowRoles(AdminAccess.Everyone)
            .WithSummary("The app's adaptive premium share (premium requests kept on premium), its bounds, and the budget burn rate it was last adjusted by.")
            .Produces<AppSavingsView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    internal static async Task<IResult> GetAsync(string appId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!ApiKeys.IsValidAppId(appId))
        {
            return AdminEndpoints.InvalidAppId();
        }

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var status = await cluster.RunAsync(_ => new ValueTask<PremiumShareStatus?>(app.GetPremiumShareAsync()), cancellationToken);
        return status is null ? AdminEndpoints.AppNotFound(appId) : TypedResults.Ok(AppSavingsView.From(status));
    }
}
