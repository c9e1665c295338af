using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Cost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace MicroApps.Orleans.Catalog;

/// <summary>
/// Catalog usage, reuse and retirement candidates. Stateless: the apps come from the registry, per-app calls and cost
/// from the cost dashboard (the hourly roll-ups, never raw traces), component kinds from the catalog; the decisions
/// are <see cref="CatalogUsage"/>'s.
/// </summary>
[StatelessWorker]
public sealed class CatalogUsageGrain(
    IGrainFactory grains,
    IOptions<RetirementOptions> retirement,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time) : Grain, ICatalogUsageGrain
{
    private const int FanOut = 64;

    public async Task<CatalogUsageReport> UsageAsync(DateTimeOffset from, DateTimeOffset to)
    {
        if (CostRanges.Check(from, to, CostGranularity.Month) is { } problem)
        {
            throw new ArgumentException($"{problem.Field}: {problem.Message}", problem.Field);
        }

        var (start, end) = CostRanges.Align(from, to);
        var appsTask = AppsAsync(grains);
        var spendTask = SpendAsync(start, end);
        var entries = await grains.GetGrain<ICatalogGrain>("default").SearchAsync(new CatalogQuery());
        var kinds = entries.GroupBy(e => e.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Kind, StringComparer.Ordinal);
        return CatalogUsage.Compute(start, end, await appsTask, await spendTask, kinds);
    }

    public async Task<RetirementReport> RetirementAsync(RetirementCriteria? criteria)
    {
        criteria ??= retirement.Value.ToCriteria();
        if (RetirementCriteriaRules.Problems(criteria) is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join(" ", problems.Select(p => $"{p.Setting} {p.Message}")), problems[0].Setting);
        }

        var now = time.GetUtcNow();
        var (start, end) = CostRanges.Align(now.AddDays(-criteria.Days), now);
        var appsTask = AppsAsync(grains);
        var spend = await SpendAsync(start, end);
        return CatalogUsage.Retirement(start, end, criteria, await appsTask, spend);
    }

    public Task<RetirementCriteria> DefaultRetirementCriteriaAsync() => Task.FromResult(retirement.Value.ToCriteria());

    /// <summary>Every registered app that exists, read with a bounded fan-out.</summary>
    internal static async Task<List<AppInfo>> AppsAsync(IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IAppRegistryGrain>(0).ListAsync();
        var apps = new List<AppInfo>(ids.Count);
        for (var offset = 0; offset < ids.Count; offset += FanOut)
        {
            var batch = await Task.WhenAll(ids.Skip(offset).Take(FanOut).Select(id => grains.GetGrain<IMicroAppGrain>(id).GetAsync()));
            apps.AddRange(batch.Where(a => a is not null).Select(a => a!));
        }

        return apps;
    }

    private async Task<Dictionary<string, AppSpend>> SpendAsync(DateTimeOffset from, DateTimeOffset to)
    {
        // Month buckets: the fewest points for a window of up to a year; only the per-app totals are used.
        var series = await grains.GetGrain<ICostDashboardGrain>(0).GetSpendAsync(from, to, CostGranularity.Month, CostDimension.App);
        return series.Groups
            .Where(g => g.Key.Length > 0)
            .ToDictionary(g => g.Key, g => new AppSpend(g.Total.Requests, g.Total.CostUsd), StringComparer.Ordinal);
    }
}
