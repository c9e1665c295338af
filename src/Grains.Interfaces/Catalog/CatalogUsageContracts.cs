namespace MicroApps.Orleans.Catalog;

/// <summary>
/// How many apps use one catalog entry and how many calls they made in the window. An app counts once per entry
/// version it references (its template, a component, or a connector's <c>use</c>) in its published manifest, else its
/// newest; retired apps are not counted.
/// </summary>
/// <param name="Kind">What the entry is.</param>
/// <param name="Name">Entry name.</param>
/// <param name="Version">The version the apps pin; null for the figures of every version of the name together.</param>
/// <param name="Apps">Non-retired apps referencing it.</param>
/// <param name="Calls">Traced calls of those apps in the window.</param>
[GenerateSerializer, Immutable, Alias("microapps.CatalogEntryUsage")]
public sealed record CatalogEntryUsage(
    [property: Id(0)] CatalogKind Kind,
    [property: Id(1)] string Name,
    [property: Id(2)] string? Version,
    [property: Id(3)] int Apps,
    [property: Id(4)] long Calls);

/// <summary>
/// The reuse rate: the share of (non-retired) apps built on a shared template or component (any catalog reference:
/// template, prompt, chain, or a connector's <c>use</c>), and the share of all apps' calls those apps made.
/// </summary>
/// <param name="Apps">Non-retired apps.</param>
/// <param name="AppsOnCatalog">Of those, apps referencing the catalog.</param>
/// <param name="AppsShare">AppsOnCatalog ÷ Apps, rounded to 6 places; null when there are no apps.</param>
/// <param name="Calls">Traced calls of the non-retired apps in the window.</param>
/// <param name="CallsOnCatalog">Of those, calls of apps referencing the catalog.</param>
/// <param name="CallsShare">CallsOnCatalog ÷ Calls, rounded to 6 places; null when there were no calls.</param>
[GenerateSerializer, Immutable, Alias("microapps.ReuseFigures")]
public sealed record ReuseFigures(
    [property: Id(0)] int Apps,
    [property: Id(1)] int AppsOnCatalog,
    [property: Id(2)] double? AppsShare,
    [property: Id(3)] long Calls,
    [property: Id(4)] long CallsOnCatalog,
    [property: Id(5)] double? CallsShare);

/// <summary>Usage of every referenced catalog entry over [From, To), and the reuse rate.</summary>
/// <param name="From">Start of the window (a whole UTC hour).</param>
/// <param name="To">End of the window (exclusive, a whole UTC hour).</param>
/// <param name="ByVersion">Usage per referenced entry version, by kind, name, version.</param>
/// <param name="ByName">Usage per referenced entry name (every version together), by kind, name.</param>
/// <param name="Reuse">The reuse rate.</param>
/// <param name="Definition">How the figures are computed, in words.</param>
[GenerateSerializer, Immutable, Alias("microapps.CatalogUsageReport")]
public sealed record CatalogUsageReport(
    [property: Id(0)] DateTimeOffset From,
    [property: Id(1)] DateTimeOffset To,
    [property: Id(2)] IReadOnlyList<CatalogEntryUsage> ByVersion,
    [property: Id(3)] IReadOnlyList<CatalogEntryUsage> ByName,
    [property: Id(4)] ReuseFigures Reuse,
    [property: Id(5)] string Definition);

/// <summary>What makes an app a retirement candidate over a window: little use and high cost.</summary>
/// <param name="Days">Window length in days, ending now.</param>
/// <param name="MaxCallsPerDay">An app with at most this many calls per day on average is little used.</param>
/// <param name="MinCostUsd">An app whose calls cost at least this much in the window costs a lot.</param>
[GenerateSerializer, Immutable, Alias("microapps.RetirementCriteria")]
public sealed record RetirementCriteria(
    [property: Id(0)] int Days,
    [property: Id(1)] double MaxCallsPerDay,
    [property: Id(2)] decimal MinCostUsd);

/// <summary>A low-value app and the figures that made it a candidate.</summary>
/// <param name="AppId">The app.</param>
/// <param name="Name">Its display name.</param>
/// <param name="Owner">Who to ask before retiring it.</param>
/// <param name="Team">Its team.</param>
/// <param name="BudgetId">The budget it is charged to (its own, <c>app:{appId}</c>, unless it shares one).</param>
/// <param name="Calls">Traced calls in the window.</param>
/// <param name="CallsPerDay">Calls ÷ window days, rounded to 4 places.</param>
/// <param name="CostUsd">What its calls cost in the window.</param>
/// <param name="CostPerCallUsd">Cost ÷ calls, rounded to 8 places; null without calls.</param>
/// <param name="Reason">Why it is listed, in words.</param>
[GenerateSerializer, Immutable, Alias("microapps.RetirementCandidate")]
public sealed record RetirementCandidate(
    [property: Id(0)] string AppId,
    [property: Id(1)] string Name,
    [property: Id(2)] string Owner,
    [property: Id(3)] string Team,
    [property: Id(4)] string BudgetId,
    [property: Id(5)] long Calls,
    [property: Id(6)] double CallsPerDay,
    [property: Id(7)] decimal CostUsd,
    [property: Id(8)] decimal? CostPerCallUsd,
    [property: Id(9)] string Reason);

/// <summary>Retirement candidates over [From, To), highest cost first.</summary>
[GenerateSerializer, Immutable, Alias("microapps.RetirementReport")]
public sealed record RetirementReport(
    [property: Id(0)] DateTimeOffset From,
    [property: Id(1)] DateTimeOffset To,
    [property: Id(2)] RetirementCriteria Criteria,
    [property: Id(3)] int AppsConsidered,
    [property: Id(4)] IReadOnlyList<RetirementCandidate> Candidates);

/// <summary>
/// Catalog discovery figures (key 0; a stateless worker, so any silo answers): usage per template and component, the
/// reuse rate and retirement candidates. Reads the app registry, each app, and the cost dashboard's per-app spend
/// (never raw traces).
/// </summary>
public interface ICatalogUsageGrain : IGrainWithIntegerKey
{
    /// <summary>Usage and reuse over [from, to) (rounded out to whole hours; at most 366 days).</summary>
    /// <exception cref="ArgumentException">The range is empty or too long.</exception>
    Task<CatalogUsageReport> UsageAsync(DateTimeOffset from, DateTimeOffset to);

    /// <summary>Low-value apps over the last <see cref="RetirementCriteria.Days"/> days; null criteria use the configured <c>Catalog:Retirement</c> ones.</summary>
    /// <exception cref="ArgumentException">A criterion is out of range.</exception>
    Task<RetirementReport> RetirementAsync(RetirementCriteria? criteria);

    /// <summary>The configured criteria (<c>Catalog:Retirement</c>).</summary>
    Task<RetirementCriteria> DefaultRetirementCriteriaAsync();
}
