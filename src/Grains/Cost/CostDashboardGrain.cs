using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;

namespace MicroApps.Orleans.Cost;

/// <summary>
/// The cost dashboard and KPIs. Stateless: every figure comes from the day roll-up grains (one call per day in the
/// range, never the raw trace events), the budgets and the app registry, so any silo answers and nothing is cached
/// that could disagree between silos.
/// </summary>
[StatelessWorker]
public sealed class CostDashboardGrain(
    IGrainFactory grains,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time) : Grain, ICostDashboardGrain
{
    /// <summary>How the cache savings are computed, returned with them.</summary>
    public const string CacheSavingsMethod =
        "Each cache hit's input and output tokens priced on the model that served it at the model catalog's per-1K prices "
        + "(the charge the call would have had on a miss); hits whose model is not in the catalog or that carry no token counts "
        + "are counted as unpriced and add nothing. Closed hours are priced once, when they are rolled up.";

    /// <summary>How the savings split is computed, returned with it.</summary>
    public const string SavingsMethod =
        "Each call's baseline is its trace's BaselineCostUsd: its tokens priced on the first model of the route its app asked for "
        + "(a call without one, such as one written before baselines were traced, counts its actual cost). A call that cost less than "
        + "its baseline saved the difference, attributed to its trace's saving kind (cache, near_duplicate, routing, sampling; other "
        + "when it has none); a call that cost more adds to overBaselineUsd. baselineUsd = spentUsd + savedUsd - overBaselineUsd.";

    public const string MeanTimeToPublishDefinition =
        "For every version created as a draft whose first transition to published falls in the range: first published time "
        + "minus the draft's creation time. Versions created already published (the admin bootstrap) are not counted.";

    public const string IncidentDefinition =
        "An incident is an app-hour with at least IncidentMinEvents blocked or errored calls that are at least IncidentMinShare "
        + "of the app's calls in that hour (Telemetry:Cost). App-days are distinct (app, UTC day) pairs with at least one "
        + "trace event in the range. Rate = 1,000 × incidents ÷ app-days.";

    public const string ReuseDefinition =
        "value: share of non-retired apps whose manifest (the published version's, else the newest) references the catalog: "
        + "a template, a component (shared prompt or chain) or a connector's 'use'. callsShare: share of the non-retired apps' "
        + "traced calls in the range made by those apps.";

    private const int FanOut = 64;

    public async Task<SpendSeries> GetSpendAsync(DateTimeOffset from, DateTimeOffset to, CostGranularity granularity, CostDimension groupBy)
    {
        Check(from, to, granularity);
        if (!Enum.IsDefined(groupBy))
        {
            throw new ArgumentException($"groupBy {groupBy} is not a dimension.", nameof(groupBy));
        }

        var (start, end) = CostRanges.Align(from, to);
        var slices = await SliceAsync(start, end, [groupBy], byHour: granularity == CostGranularity.Hour);
        var groups = new Dictionary<string, SortedDictionary<DateTimeOffset, CostTotals>>(StringComparer.Ordinal);
        foreach (var bucket in slices.SelectMany(s => s.Buckets))
        {
            if (!groups.TryGetValue(bucket.Key, out var series))
            {
                groups[bucket.Key] = series = [];
            }

            var at = BucketOf(bucket.Start, granularity);
            series[at] = series.TryGetValue(at, out var sum) ? sum.Add(bucket.Totals) : bucket.Totals;
        }

        var spendGroups = groups
            .Select(g => new SpendGroup(g.Key, Sum(g.Value.Values), g.Value.Select(p => new SpendPoint(p.Key, p.Value)).ToList()))
            .OrderByDescending(g => g.Total.CostUsd)
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        return new SpendSeries(
            start, end, granularity, groupBy, BucketStarts(start, end, granularity), spendGroups, Sum(spendGroups.Select(g => g.Total)),
            slices.Sum(s => s.ClosedHours), slices.Sum(s => s.LiveHours));
    }

    public async Task<CostSummary> GetSummaryAsync(DateTimeOffset from, DateTimeOffset to, int top)
    {
        Check(from, to, CostGranularity.Day);
        if (top is < 1 or > CostRanges.MaxTop)
        {
            throw new ArgumentException($"top must be between 1 and {CostRanges.MaxTop}; it is {top}.", nameof(top));
        }

        var (start, end) = CostRanges.Align(from, to);
        var slices = await SliceAsync(start, end, [CostDimension.Total, CostDimension.Tier, CostDimension.App, CostDimension.Team], byHour: false);
        var total = Sum(slices.SelectMany(s => s.Buckets).Where(b => b.Dimension == CostDimension.Total).Select(b => b.Totals));
        var hitRate = total.Answered == 0 ? 0d : Math.Round((double)total.CacheHits / total.Answered, 6);
        return new CostSummary(
            start,
            end,
            total,
            ByTier(slices),
            new CacheSavings(total.CacheHits, total.CacheSavedUsd, total.UnpricedCacheHits, hitRate, CacheSavingsMethod),
            Top(slices, CostDimension.App, top),
            Top(slices, CostDimension.Team, top),
            SavingsSplit.Of(total, SavingsMethod));
    }

    public async Task<IReadOnlyList<BudgetBurn>> GetBudgetBurnAsync()
    {
        var apps = await AppsAsync();
        var budgets = apps
            .GroupBy(a => a.EffectiveBudgetId, StringComparer.Ordinal)
            .Select(g => (BudgetId: g.Key, Apps: (IReadOnlyList<string>)g.Select(a => a.AppId).Order(StringComparer.Ordinal).ToList()))
            .OrderBy(b => b.BudgetId, StringComparer.Ordinal)
            .ToList();
        var snapshots = await InBatchesAsync(budgets, b => grains.GetGrain<IBudgetGrain>(b.BudgetId).GetAsync());
        var now = time.GetUtcNow();
        return budgets.Zip(snapshots)
            .Where(p => p.Second.Configured)
            .Select(p => Burn(p.Second, p.First.Apps, now))
            .ToList();
    }

    public async Task<KpiReport> GetKpisAsync(DateTimeOffset from, DateTimeOffset to)
    {
        Check(from, to, CostGranularity.Day);
        var (start, end) = CostRanges.Align(from, to);
        var slicesTask = SliceAsync(start, end, [CostDimension.Tier, CostDimension.App], byHour: false);
        var appsTask = AppsAsync();
        var slices = await slicesTask;
        var apps = await appsTask;

        var incidents = slices.SelectMany(s => s.Incidents).OrderBy(i => i.HourStart).ThenBy(i => i.AppId, StringComparer.Ordinal).ToList();
        var appDays = slices.Sum(s => s.ActiveApps);
        var rate = new IncidentRate(
            incidents.Count, appDays, appDays == 0 ? null : Math.Round(1000d * incidents.Count / appDays, 4), incidents, IncidentDefinition);

        return new KpiReport(start, end, MeanTimeToPublish(apps, start, end), ByTier(slices), rate, Reuse(apps, slices));
    }

    /// <summary>The reuse rate of the non-retired apps, with their calls in the range (see <see cref="Catalog.CatalogUsage"/>).</summary>
    private static ReuseRate Reuse(IEnumerable<AppInfo> apps, IEnumerable<CostSlice> slices)
    {
        var spend = Sums(slices, CostDimension.App)
            .Where(s => s.Key.Length > 0)
            .ToDictionary(s => s.Key, s => new Catalog.AppSpend(s.Value.Requests, s.Value.CostUsd), StringComparer.Ordinal);
        var figures = Catalog.CatalogUsage.Reuse(apps, spend);
        return new ReuseRate(
            figures.AppsShare,
            figures.AppsShare is null ? "no apps yet: there is nothing to measure reuse against" : null,
            figures.CallsShare,
            figures.Apps,
            figures.AppsOnCatalog,
            figures.Calls,
            figures.CallsOnCatalog,
            ReuseDefinition);
    }

    /// <summary>Projection: spend so far ÷ elapsed share of the period (exact decimal arithmetic on ticks).</summary>
    internal static BudgetBurn Burn(BudgetSnapshot snapshot, IReadOnlyList<string> apps, DateTimeOffset now)
    {
        var periodEnd = BudgetPeriods.NextStart(snapshot.Period, snapshot.PeriodStart);
        var periodTicks = (periodEnd - snapshot.PeriodStart).Ticks;
        var elapsedTicks = Math.Clamp((now - snapshot.PeriodStart).Ticks, 0, periodTicks);
        var spent = snapshot.SpentUsd;
        var projected = elapsedTicks == 0 ? spent : Math.Round(spent * periodTicks / elapsedTicks, 8);
        var perHour = elapsedTicks == 0 ? 0m : Math.Round(spent * TimeSpan.TicksPerHour / elapsedTicks, 8);
        var status = spent > snapshot.LimitUsd || projected > snapshot.LimitUsd ? BudgetBurnStatus.Over : BudgetBurnStatus.OnTrack;
        return new BudgetBurn(
            snapshot.BudgetId, apps, snapshot.LimitUsd, snapshot.Period.ToString().ToLowerInvariant(), snapshot.PeriodStart, periodEnd,
            spent, snapshot.ReservedUsd, Math.Round((double)elapsedTicks / periodTicks, 6), perHour, projected, status);
    }

    internal static MeanTimeToPublish MeanTimeToPublish(IEnumerable<AppInfo> apps, DateTimeOffset from, DateTimeOffset to)
    {
        var hours = new List<double>();
        foreach (var version in apps.SelectMany(a => a.Versions ?? []))
        {
            // The first history entry is the creation: (Draft, Draft) for a draft, (Published, Published) for the bootstrap.
            if (version.History.Count == 0 || version.History[0].To != VersionState.Draft)
            {
                continue;
            }

            var published = version.History.FirstOrDefault(t => t.To == VersionState.Published && t.From != VersionState.Published);
            if (published is not null && published.At >= from && published.At < to)
            {
                hours.Add((published.At - version.CreatedAt).TotalHours);
            }
        }

        if (hours.Count == 0)
        {
            return new MeanTimeToPublish(0, null, null, MeanTimeToPublishDefinition);
        }

        hours.Sort();
        var median = hours.Count % 2 == 1 ? hours[hours.Count / 2] : (hours[(hours.Count / 2) - 1] + hours[hours.Count / 2]) / 2;
        return new MeanTimeToPublish(hours.Count, Math.Round(hours.Average(), 6), Math.Round(median, 6), MeanTimeToPublishDefinition);
    }

    private static void Check(DateTimeOffset from, DateTimeOffset to, CostGranularity granularity)
    {
        if (!Enum.IsDefined(granularity))
        {
            throw new ArgumentException($"granularity {granularity} is not one of hour, day, month.", nameof(granularity));
        }

        if (CostRanges.Check(from, to, granularity) is { } problem)
        {
            throw new ArgumentException($"{problem.Field}: {problem.Message}", problem.Field);
        }
    }

    /// <summary>One roll-up grain call per UTC day of [from, to), each asked for its part of the range.</summary>
    private async Task<CostSlice[]> SliceAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<CostDimension> dimensions, bool byHour)
    {
        var requests = new List<(string Day, CostSliceRequest Request)>();
        for (var day = new DateTimeOffset(from.Year, from.Month, from.Day, 0, 0, 0, TimeSpan.Zero); day < to; day = day.AddDays(1))
        {
            var dayFrom = day > from ? day : from;
            var dayTo = day.AddDays(1) < to ? day.AddDays(1) : to;
            requests.Add((CostDays.KeyOf(day), new CostSliceRequest(dayFrom, dayTo, dimensions, byHour)));
        }

        return await InBatchesAsync(requests, r => grains.GetGrain<ICostRollupGrain>(r.Day).SliceAsync(r.Request));
    }

    private async Task<List<AppInfo>> AppsAsync()
    {
        var ids = await grains.GetGrain<IAppRegistryGrain>(0).ListAsync();
        var infos = await InBatchesAsync(ids.ToList(), id => grains.GetGrain<IMicroAppGrain>(id).GetAsync());
        return infos.Where(i => i is not null).Select(i => i!).ToList();
    }

    /// <summary>Bounded fan-out: at most <see cref="FanOut"/> grain calls outstanding, results in input order.</summary>
    private static async Task<TResult[]> InBatchesAsync<TItem, TResult>(IReadOnlyList<TItem> items, Func<TItem, Task<TResult>> call)
    {
        var results = new TResult[items.Count];
        for (var offset = 0; offset < items.Count; offset += FanOut)
        {
            var batch = items.Skip(offset).Take(FanOut).Select(call).ToArray();
            var done = await Task.WhenAll(batch);
            done.CopyTo(results, offset);
        }

        return results;
    }

    private static List<TierCost> ByTier(IEnumerable<CostSlice> slices) =>
        Sums(slices, CostDimension.Tier)
            .Where(t => t.Key.Length > 0)
            .Select(t => new TierCost(
                t.Key, t.Value.Requests, t.Value.Answered, t.Value.CostUsd,
                t.Value.Answered == 0 ? null : Math.Round(t.Value.CostUsd * 1000m / t.Value.Answered, 8)))
            .ToList();

    private static List<Spender> Top(IEnumerable<CostSlice> slices, CostDimension dimension, int top) =>
        Sums(slices, dimension)
            .Where(s => s.Key.Length > 0)
            .OrderByDescending(s => s.Value.CostUsd)
            .ThenBy(s => s.Key, StringComparer.Ordinal)
            .Take(top)
            .Select(s => new Spender(s.Key, s.Value.CostUsd, s.Value.Requests))
            .ToList();

    private static SortedDictionary<string, CostTotals> Sums(IEnumerable<CostSlice> slices, CostDimension dimension)
    {
        var sums = new SortedDictionary<string, CostTotals>(StringComparer.Ordinal);
        foreach (var bucket in slices.SelectMany(s => s.Buckets).Where(b => b.Dimension == dimension))
        {
            sums[bucket.Key] = sums.TryGetValue(bucket.Key, out var sum) ? sum.Add(bucket.Totals) : bucket.Totals;
        }

        return sums;
    }

    private static CostTotals Sum(IEnumerable<CostTotals> totals) => totals.Aggregate(CostTotals.Zero, (a, b) => a.Add(b));

    private static DateTimeOffset BucketOf(DateTimeOffset start, CostGranularity granularity) => granularity switch
    {
        CostGranularity.Hour => start,
        CostGranularity.Day => new DateTimeOffset(start.Year, start.Month, start.Day, 0, 0, 0, TimeSpan.Zero),
        _ => new DateTimeOffset(start.Year, start.Month, 1, 0, 0, 0, TimeSpan.Zero),
    };

    private static List<DateTimeOffset> BucketStarts(DateTimeOffset from, DateTimeOffset to, CostGranularity granularity)
    {
        var starts = new List<DateTimeOffset>();
        for (var at = BucketOf(from, granularity); at < to; at = granularity switch
             {
                 CostGranularity.Hour => at.AddHours(1),
                 CostGranularity.Day => at.AddDays(1),
                 _ => at.AddMonths(1),
             })
        {
            starts.Add(at);
        }

        return starts;
    }
}
