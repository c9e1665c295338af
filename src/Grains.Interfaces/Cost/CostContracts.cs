namespace MicroApps.Orleans.Cost;

/// <summary>How spend is bucketed in time (UTC).</summary>
public enum CostGranularity
{
    Hour = 0,
    Day = 1,
    Month = 2,
}

/// <summary>What spend is grouped by.</summary>
public enum CostDimension
{
    App = 0,
    Team = 1,
    Tier = 2,
    Model = 3,

    /// <summary>Everything together (key <c>""</c>).</summary>
    Total = 4,
}

/// <summary>
/// Sums over trace events. Outcome counts use <c>TraceOutcomes</c> values (older events that carry a governed-outcome
/// name such as <c>Completed</c> are counted under the trace outcome it maps to). <see cref="CostUsd"/> is the sum of
/// the events' actual cost; <see cref="CacheSavedUsd"/> is what the cache hits would have cost on the model that
/// served them (priced with the model catalog); cache hits whose model is not in the catalog, or that carry no token
/// counts, are counted in <see cref="UnpricedCacheHits"/> and add nothing to the savings. <see cref="TokensIn"/> and
/// <see cref="TokensOut"/> are tokens models processed: cache hits' tokens are not in them.
/// <para>
/// Savings split (fields 13–19; roll-ups stored before they existed read them as 0): every event's baseline is its
/// <c>BaselineCostUsd</c> (what its tokens would have cost on the first model of the route the app asked for) or, when
/// the event has none, its actual cost. A call whose baseline is above its actual cost saved the difference, attributed
/// to its <c>Saving</c> kind (<see cref="SavedOtherUsd"/> when the kind is <c>none</c>, missing or unknown); a call
/// that cost more than its baseline (a fallback to a pricier model) adds the difference to <see cref="OverBaselineUsd"/>.
/// So, exactly: <see cref="BaselineUsd"/> = <see cref="CostUsd"/> + <see cref="SavedUsd"/> − <see cref="OverBaselineUsd"/>.
/// </para>
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.CostTotals")]
public sealed record CostTotals(
    [property: Id(0)] long Requests,
    [property: Id(1)] long Success,
    [property: Id(2)] long CacheHits,
    [property: Id(3)] long Blocked,
    [property: Id(4)] long Throttled,
    [property: Id(5)] long Invalid,
    [property: Id(6)] long Unauthorized,
    [property: Id(7)] long Errors,
    [property: Id(8)] long TokensIn,
    [property: Id(9)] long TokensOut,
    [property: Id(10)] decimal CostUsd,
    [property: Id(11)] decimal CacheSavedUsd,
    [property: Id(12)] long UnpricedCacheHits,
    [property: Id(13)] decimal BaselineUsd = 0m,
    [property: Id(14)] decimal SavedCacheUsd = 0m,
    [property: Id(15)] decimal SavedNearDuplicateUsd = 0m,
    [property: Id(16)] decimal SavedRoutingUsd = 0m,
    [property: Id(17)] decimal SavedSamplingUsd = 0m,
    [property: Id(18)] decimal SavedOtherUsd = 0m,
    [property: Id(19)] decimal OverBaselineUsd = 0m)
{
    public static CostTotals Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0m, 0m, 0);

    /// <summary>Everything saved against the baseline: the sum of the per-kind savings.</summary>
    public decimal SavedUsd => SavedCacheUsd + SavedNearDuplicateUsd + SavedRoutingUsd + SavedSamplingUsd + SavedOtherUsd;

    /// <summary>Calls a model or the cache answered (success + cache hits): the denominator of cost per 1,000 requests.</summary>
    public long Answered => Success + CacheHits;

    /// <summary>Field-by-field sum.</summary>
    public CostTotals Add(CostTotals other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new(
            Requests + other.Requests, Success + other.Success, CacheHits + other.CacheHits, Blocked + other.Blocked,
            Throttled + other.Throttled, Invalid + other.Invalid, Unauthorized + other.Unauthorized, Errors + other.Errors,
            TokensIn + other.TokensIn, TokensOut + other.TokensOut, CostUsd + other.CostUsd, CacheSavedUsd + other.CacheSavedUsd,
            UnpricedCacheHits + other.UnpricedCacheHits, BaselineUsd + other.BaselineUsd, SavedCacheUsd + other.SavedCacheUsd,
            SavedNearDuplicateUsd + other.SavedNearDuplicateUsd, SavedRoutingUsd + other.SavedRoutingUsd,
            SavedSamplingUsd + other.SavedSamplingUsd, SavedOtherUsd + other.SavedOtherUsd, OverBaselineUsd + other.OverBaselineUsd);
    }
}

/// <summary>The sums of one app, team, tier and model in one hour.</summary>
[GenerateSerializer, Immutable, Alias("microapps.CostCell")]
public sealed record CostCell(
    [property: Id(0)] string AppId,
    [property: Id(1)] string Team,
    [property: Id(2)] string Tier,
    [property: Id(3)] string Model,
    [property: Id(4)] CostTotals Totals)
{
    /// <summary>This cell's key along <paramref name="dimension"/>.</summary>
    public string KeyOf(CostDimension dimension) => dimension switch
    {
        CostDimension.App => AppId,
        CostDimension.Team => Team,
        CostDimension.Tier => Tier,
        CostDimension.Model => Model,
        _ => "",
    };
}

/// <summary>The roll-up of one UTC hour. <see cref="Final"/>: the hour is closed and this roll-up is stored and never changes.</summary>
[GenerateSerializer, Immutable, Alias("microapps.HourRollup")]
public sealed record HourRollup(
    [property: Id(0)] DateTimeOffset HourStart,
    [property: Id(1)] IReadOnlyList<CostCell> Cells,
    [property: Id(2)] bool Final,
    [property: Id(3)] DateTimeOffset ComputedAt);

/// <summary>What a dashboard asks one day's roll-up grain.</summary>
/// <param name="From">Inclusive start; hours starting before it are left out.</param>
/// <param name="To">Exclusive end; hours starting at or after it are left out.</param>
/// <param name="Dimensions">Groupings to return buckets for.</param>
/// <param name="ByHour">One bucket per hour; otherwise one bucket for the whole (requested part of the) day.</param>
[GenerateSerializer, Immutable, Alias("microapps.CostSliceRequest")]
public sealed record CostSliceRequest(
    [property: Id(0)] DateTimeOffset From,
    [property: Id(1)] DateTimeOffset To,
    [property: Id(2)] IReadOnlyList<CostDimension> Dimensions,
    [property: Id(3)] bool ByHour);

/// <summary>Sums of one group in one time bucket.</summary>
[GenerateSerializer, Immutable, Alias("microapps.CostBucket")]
public sealed record CostBucket(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] CostDimension Dimension,
    [property: Id(2)] string Key,
    [property: Id(3)] CostTotals Totals);

/// <summary>
/// An incident: an app-hour with at least <c>Telemetry:Cost:IncidentMinEvents</c> blocked or errored calls that make
/// at least <c>Telemetry:Cost:IncidentMinShare</c> of the app's calls in that hour.
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.CostIncident")]
public sealed record CostIncident(
    [property: Id(0)] string AppId,
    [property: Id(1)] DateTimeOffset HourStart,
    [property: Id(2)] long BlockedOrErrored,
    [property: Id(3)] long Calls);

/// <summary>One day's answer to a <see cref="CostSliceRequest"/>.</summary>
/// <param name="Buckets">Non-empty groups only.</param>
/// <param name="ActiveApps">Distinct apps (non-empty id) with at least one event in the requested hours: this day's app-days.</param>
/// <param name="Incidents">Incident app-hours in the requested hours.</param>
/// <param name="ClosedHours">Requested hours answered from stored, final roll-ups.</param>
/// <param name="LiveHours">Requested hours computed live from the trace store (the current hour and hours still in the grace period).</param>
[GenerateSerializer, Immutable, Alias("microapps.CostSlice")]
public sealed record CostSlice(
    [property: Id(0)] IReadOnlyList<CostBucket> Buckets,
    [property: Id(1)] int ActiveApps,
    [property: Id(2)] IReadOnlyList<CostIncident> Incidents,
    [property: Id(3)] int ClosedHours,
    [property: Id(4)] int LiveHours);

/// <summary>One group's series and total in a <see cref="SpendSeries"/>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.SpendGroup")]
public sealed record SpendGroup(
    [property: Id(0)] string Key,
    [property: Id(1)] CostTotals Total,
    [property: Id(2)] IReadOnlyList<SpendPoint> Series);

/// <summary>A group's sums in the bucket starting at <see cref="Start"/>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.SpendPoint")]
public sealed record SpendPoint(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] CostTotals Totals);

/// <summary>Spend over a range, bucketed and grouped.</summary>
/// <param name="From">The range actually covered: the requested start rounded down to a whole UTC hour.</param>
/// <param name="To">The requested end rounded up to a whole UTC hour (exclusive).</param>
/// <param name="Granularity">Bucket size.</param>
/// <param name="GroupBy">The dimension groups are keyed by.</param>
/// <param name="Buckets">Bucket starts in order (UTC hour, day or month starts); the first and last may be partly covered by the range.</param>
/// <param name="Groups">Groups by total cost, highest first (ties by key).</param>
/// <param name="Total">Sum over every group.</param>
/// <param name="ClosedHours">Hours answered from stored, final roll-ups.</param>
/// <param name="LiveHours">Hours computed live (not yet closed).</param>
[GenerateSerializer, Immutable, Alias("microapps.SpendSeries")]
public sealed record SpendSeries(
    [property: Id(0)] DateTimeOffset From,
    [property: Id(1)] DateTimeOffset To,
    [property: Id(2)] CostGranularity Granularity,
    [property: Id(3)] CostDimension GroupBy,
    [property: Id(4)] IReadOnlyList<DateTimeOffset> Buckets,
    [property: Id(5)] IReadOnlyList<SpendGroup> Groups,
    [property: Id(6)] CostTotals Total,
    [property: Id(7)] int ClosedHours,
    [property: Id(8)] int LiveHours);

/// <summary>What one tier cost per 1,000 answered requests.</summary>
/// <param name="Tier">The tier.</param>
/// <param name="Requests">Every traced call of the tier, whatever its outcome.</param>
/// <param name="Answered">Calls a model or the cache answered (success + cache hits).</param>
/// <param name="CostUsd">Actual cost of the tier's calls.</param>
/// <param name="CostPer1KRequestsUsd">1,000 × cost ÷ answered (success + cache hits), rounded to 8 places; null when nothing was answered.</param>
[GenerateSerializer, Immutable, Alias("microapps.TierCost")]
public sealed record TierCost(
    [property: Id(0)] string Tier,
    [property: Id(1)] long Requests,
    [property: Id(2)] long Answered,
    [property: Id(3)] decimal CostUsd,
    [property: Id(4)] decimal? CostPer1KRequestsUsd);

/// <summary>An app or team and its spend.</summary>
[GenerateSerializer, Immutable, Alias("microapps.Spender")]
public sealed record Spender(
    [property: Id(0)] string Key,
    [property: Id(1)] decimal CostUsd,
    [property: Id(2)] long Requests);

/// <summary>What caching saved: cache hits priced on the model that served them at the catalog's prices.</summary>
/// <param name="CacheHits">Calls answered from the cache.</param>
/// <param name="SavedUsd">What the priced cache hits would have cost.</param>
/// <param name="UnpricedCacheHits">Cache hits whose model is not in the catalog or that carry no token counts.</param>
/// <param name="HitRate">Cache hits ÷ answered calls (0 when none were answered).</param>
/// <param name="Method">How <see cref="SavedUsd"/> is computed, in words.</param>
[GenerateSerializer, Immutable, Alias("microapps.CacheSavings")]
public sealed record CacheSavings(
    [property: Id(0)] long CacheHits,
    [property: Id(1)] decimal SavedUsd,
    [property: Id(2)] long UnpricedCacheHits,
    [property: Id(3)] double HitRate,
    [property: Id(4)] string Method);

/// <summary>Saved USD per saving kind (<c>Savings.SavingKinds</c>).</summary>
/// <param name="Cache">Exact cache hits and calls that shared an identical in-flight call's answer.</param>
/// <param name="NearDuplicate">Near-duplicate cache hits.</param>
/// <param name="Routing">Cost-aware routing to a cheaper model that meets the app's quality SLO.</param>
/// <param name="Sampling">Adaptive sampling moved a premium request to a cheaper model.</param>
/// <param name="Other">Calls cheaper than their baseline without a saving kind (for example a fallback to a cheaper model).</param>
[GenerateSerializer, Immutable, Alias("microapps.SavingsByKind")]
public sealed record SavingsByKind(
    [property: Id(0)] decimal Cache,
    [property: Id(1)] decimal NearDuplicate,
    [property: Id(2)] decimal Routing,
    [property: Id(3)] decimal Sampling,
    [property: Id(4)] decimal Other);

/// <summary>
/// What the savings engine saved against the baseline (every call priced on the first model of the route its app asked
/// for). <c>BaselineUsd = SpentUsd + SavedUsd − OverBaselineUsd</c>.
/// </summary>
/// <param name="BaselineUsd">What the calls would have cost on the route their apps asked for.</param>
/// <param name="SpentUsd">What they cost (the summary total's cost).</param>
/// <param name="SavedUsd">Sum of <paramref name="ByKind"/>.</param>
/// <param name="SavedShare">Saved ÷ baseline, rounded to 6 places (0 when the baseline is 0).</param>
/// <param name="ByKind">Saved USD per saving kind.</param>
/// <param name="OverBaselineUsd">What calls cost above their baseline (a fallback to a pricier model).</param>
/// <param name="Method">How the figures are computed, in words.</param>
[GenerateSerializer, Immutable, Alias("microapps.SavingsSplit")]
public sealed record SavingsSplit(
    [property: Id(0)] decimal BaselineUsd,
    [property: Id(1)] decimal SpentUsd,
    [property: Id(2)] decimal SavedUsd,
    [property: Id(3)] double SavedShare,
    [property: Id(4)] SavingsByKind ByKind,
    [property: Id(5)] decimal OverBaselineUsd,
    [property: Id(6)] string Method)
{
    /// <summary>The split of <paramref name="totals"/>.</summary>
    public static SavingsSplit Of(CostTotals totals, string method)
    {
        ArgumentNullException.ThrowIfNull(totals);
        var saved = totals.SavedUsd;
        return new SavingsSplit(
            totals.BaselineUsd,
            totals.CostUsd,
            saved,
            totals.BaselineUsd == 0m ? 0d : Math.Round((double)(saved / totals.BaselineUsd), 6),
            new SavingsByKind(totals.SavedCacheUsd, totals.SavedNearDuplicateUsd, totals.SavedRoutingUsd, totals.SavedSamplingUsd, totals.SavedOtherUsd),
            totals.OverBaselineUsd,
            method);
    }
}

/// <summary>Cost summary over a range.</summary>
/// <param name="From">Start of the range (rounded down to a whole UTC hour).</param>
/// <param name="To">End of the range (rounded up to a whole UTC hour, exclusive).</param>
/// <param name="Total">Sums over every call in the range.</param>
/// <param name="ByTier">Cost per 1,000 answered requests of each tier (the tier that served the call).</param>
/// <param name="CacheSavings">Cache hits priced on the model that made the cached answer.</param>
/// <param name="TopApps">Highest spending apps.</param>
/// <param name="TopTeams">Highest spending teams.</param>
/// <param name="Savings">
/// The savings split against the baseline. Its <c>ByKind.Cache</c> prices each cache hit on the baseline model (what the
/// app asked for), while <paramref name="CacheSavings"/> prices it on the model that made the cached answer: they agree
/// when no routing or sampling was involved, and <c>ByKind.Cache</c> is the larger when a cheaper model made the answer.
/// Events written before baselines were traced add to <paramref name="CacheSavings"/> only.
/// </param>
[GenerateSerializer, Immutable, Alias("microapps.CostSummary")]
public sealed record CostSummary(
    [property: Id(0)] DateTimeOffset From,
    [property: Id(1)] DateTimeOffset To,
    [property: Id(2)] CostTotals Total,
    [property: Id(3)] IReadOnlyList<TierCost> ByTier,
    [property: Id(4)] CacheSavings CacheSavings,
    [property: Id(5)] IReadOnlyList<Spender> TopApps,
    [property: Id(6)] IReadOnlyList<Spender> TopTeams,
    [property: Id(7)] SavingsSplit? Savings = null);

/// <summary>Burn status values of a <see cref="BudgetBurn"/>.</summary>
public static class BudgetBurnStatus
{
    /// <summary>The projected end-of-period spend is within the limit.</summary>
    public const string OnTrack = "on_track";

    /// <summary>The projected end-of-period spend (or the spend so far) is above the limit.</summary>
    public const string Over = "over";
}

/// <summary>
/// A budget's burn rate and projection: spend so far ÷ elapsed share of the period = projected end-of-period spend.
/// </summary>
/// <param name="BudgetId">The budget.</param>
/// <param name="Apps">Apps charged to this budget.</param>
/// <param name="LimitUsd">The budget's limit per period.</param>
/// <param name="Period"><c>day</c> or <c>month</c>.</param>
/// <param name="PeriodStart">Start of the current period (UTC).</param>
/// <param name="PeriodEnd">End of the current period (exclusive).</param>
/// <param name="SpentUsd">Settled spend so far in the period.</param>
/// <param name="ReservedUsd">Reserved by calls in flight (not in the projection).</param>
/// <param name="ElapsedShare">Share (0–1) of the period that has passed.</param>
/// <param name="BurnRateUsdPerHour">Spend so far ÷ elapsed hours; 0 at the very start of a period.</param>
/// <param name="ProjectedUsd">Spend so far ÷ elapsed share, rounded to 8 places; the spend so far when no time has elapsed.</param>
/// <param name="Status"><see cref="BudgetBurnStatus.OnTrack"/> or <see cref="BudgetBurnStatus.Over"/>.</param>
[GenerateSerializer, Immutable, Alias("microapps.BudgetBurn")]
public sealed record BudgetBurn(
    [property: Id(0)] string BudgetId,
    [property: Id(1)] IReadOnlyList<string> Apps,
    [property: Id(2)] decimal LimitUsd,
    [property: Id(3)] string Period,
    [property: Id(4)] DateTimeOffset PeriodStart,
    [property: Id(5)] DateTimeOffset PeriodEnd,
    [property: Id(6)] decimal SpentUsd,
    [property: Id(7)] decimal ReservedUsd,
    [property: Id(8)] double ElapsedShare,
    [property: Id(9)] decimal BurnRateUsdPerHour,
    [property: Id(10)] decimal ProjectedUsd,
    [property: Id(11)] string Status);

/// <summary>Mean time from a version's draft being created to its first publication, over versions first published in the range.</summary>
/// <param name="Versions">Versions counted (created as drafts, first published in the range).</param>
/// <param name="MeanHours">Mean in hours; null when no version counts.</param>
/// <param name="MedianHours">Median in hours; null when no version counts.</param>
/// <param name="Definition">The definition, in words.</param>
[GenerateSerializer, Immutable, Alias("microapps.MeanTimeToPublish")]
public sealed record MeanTimeToPublish(
    [property: Id(0)] int Versions,
    [property: Id(1)] double? MeanHours,
    [property: Id(2)] double? MedianHours,
    [property: Id(3)] string Definition);

/// <summary>Incidents per 1,000 app-days.</summary>
/// <param name="AppDays">Distinct (app, UTC day) pairs with at least one trace event in the range.</param>
/// <param name="Incidents">Incident app-hours in the range.</param>
/// <param name="Per1000AppDays">1,000 × incidents ÷ app-days, rounded to 4 places; null when there are no app-days.</param>
/// <param name="Items">The incident app-hours, oldest first.</param>
/// <param name="Definition">The definition, in words.</param>
[GenerateSerializer, Immutable, Alias("microapps.IncidentRate")]
public sealed record IncidentRate(
    [property: Id(0)] int Incidents,
    [property: Id(1)] int AppDays,
    [property: Id(2)] double? Per1000AppDays,
    [property: Id(3)] IReadOnlyList<CostIncident> Items,
    [property: Id(4)] string Definition);

/// <summary>
/// The reuse rate: <see cref="Value"/> is the share of non-retired apps built on a shared template or component (any
/// catalog reference: template, prompt, chain, or a connector's <c>use</c>); <see cref="CallsShare"/> is the share of
/// those apps' calls among all non-retired apps' calls in the range. Null values come with a <see cref="Reason"/>.
/// </summary>
/// <param name="Value">Apps share, rounded to 6 places; null when there are no apps.</param>
/// <param name="Reason">Why a value is null; null otherwise.</param>
/// <param name="CallsShare">Calls share, rounded to 6 places; null when there were no calls in the range.</param>
/// <param name="Apps">Non-retired apps.</param>
/// <param name="AppsOnCatalog">Of those, apps referencing the catalog.</param>
/// <param name="Calls">Traced calls of the non-retired apps in the range.</param>
/// <param name="CallsOnCatalog">Of those, calls of apps referencing the catalog.</param>
/// <param name="Definition">The definition, in words.</param>
[GenerateSerializer, Immutable, Alias("microapps.ReuseRate")]
public sealed record ReuseRate(
    [property: Id(0)] double? Value,
    [property: Id(1)] string? Reason,
    [property: Id(2)] double? CallsShare = null,
    [property: Id(3)] int Apps = 0,
    [property: Id(4)] int AppsOnCatalog = 0,
    [property: Id(5)] long Calls = 0,
    [property: Id(6)] long CallsOnCatalog = 0,
    [property: Id(7)] string? Definition = null);

/// <summary>The platform KPIs over a range.</summary>
[GenerateSerializer, Immutable, Alias("microapps.KpiReport")]
public sealed record KpiReport(
    [property: Id(0)] DateTimeOffset From,
    [property: Id(1)] DateTimeOffset To,
    [property: Id(2)] MeanTimeToPublish MeanTimeToPublish,
    [property: Id(3)] IReadOnlyList<TierCost> CostPer1KRequestsByTier,
    [property: Id(4)] IncidentRate Incidents,
    [property: Id(5)] ReuseRate ReuseRate);

/// <summary>Range rules shared by the dashboard grain and the admin API, so both refuse the same ranges with the same words.</summary>
public static class CostRanges
{
    /// <summary>Longest range of an hourly series.</summary>
    public static TimeSpan MaxHourly { get; } = TimeSpan.FromDays(31);

    /// <summary>Longest range of a daily or monthly series, a summary or the KPIs.</summary>
    public static TimeSpan MaxRange { get; } = TimeSpan.FromDays(366);

    /// <summary>Most top spenders a summary lists.</summary>
    public const int MaxTop = 100;

    /// <summary>The hour-aligned range: <paramref name="from"/> rounded down and <paramref name="to"/> rounded up to whole UTC hours.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) Align(DateTimeOffset from, DateTimeOffset to)
    {
        var start = HourStart(from);
        var end = HourStart(to);
        return (start, end < to.ToUniversalTime() ? end.AddHours(1) : end);
    }

    /// <summary>Null when the range is acceptable for <paramref name="granularity"/>; otherwise what is wrong, naming the field.</summary>
    public static (string Field, string Message)? Check(DateTimeOffset from, DateTimeOffset to, CostGranularity granularity)
    {
        if (to <= from)
        {
            return ("to", "Must be after 'from'.");
        }

        var max = granularity == CostGranularity.Hour ? MaxHourly : MaxRange;
        var (start, end) = Align(from, to);
        return end - start > max
            ? ("to", $"The range may span at most {max.TotalDays:0} days{(granularity == CostGranularity.Hour ? " at hourly granularity (use day or month for longer ranges)" : "")}; it spans {(end - start).TotalDays:0.##} days.")
            : null;
    }

    private static DateTimeOffset HourStart(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }
}
