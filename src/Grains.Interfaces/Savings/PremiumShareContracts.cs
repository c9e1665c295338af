namespace MicroApps.Orleans.Savings;

/// <summary>
/// An app's adaptive premium sampling as the admin API shows it (<c>GET /admin/apps/{appId}/savings</c>).
/// </summary>
/// <param name="AppId">The app.</param>
/// <param name="Sampling">True when the served version's manifest asks for sampling (<c>Savings.Sampling</c>).</param>
/// <param name="PremiumShare">The share of premium requests kept on premium now; null without sampling.</param>
/// <param name="MinShare">The app's lower bound; null without sampling.</param>
/// <param name="MaxShare">The app's upper bound; null without sampling.</param>
/// <param name="BurnRatio">Budget spent share over the period's elapsed share at the last adjustment (1 = on pace); null before one.</param>
/// <param name="SpentShare">Spent share of the budget's limit at the last adjustment.</param>
/// <param name="ElapsedShare">Elapsed share of the budget period at the last adjustment.</param>
/// <param name="LastAdjustedAt">When the share was last recomputed; null before the first sampled call.</param>
/// <param name="BudgetId">The budget the burn rate is read from.</param>
[GenerateSerializer, Immutable, Alias("microapps.PremiumShareStatus")]
public sealed record PremiumShareStatus(
    [property: Id(0)] string AppId,
    [property: Id(1)] bool Sampling,
    [property: Id(2)] double? PremiumShare,
    [property: Id(3)] double? MinShare,
    [property: Id(4)] double? MaxShare,
    [property: Id(5)] double? BurnRatio,
    [property: Id(6)] double? SpentShare,
    [property: Id(7)] double? ElapsedShare,
    [property: Id(8)] DateTimeOffset? LastAdjustedAt,
    [property: Id(9)] string BudgetId);
