using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Cost;

/// <summary>
/// The cost roll-up of one UTC day: answers slices of its hours, grouped and bucketed, from the hour roll-ups. A closed
/// hour comes from its <see cref="ICostHourGrain"/> (stored once, final: late events in a closed hour are not counted,
/// so closed figures never move; the grace period <see cref="CostOptions.RollupGrace"/> covers the trace writer's
/// batching) and is kept in memory, being immutable. Open hours are computed live from the trace store and reused for
/// <see cref="CostOptions.LiveCacheFor"/>, so a busy dashboard reads the store at most once per open hour per interval.
/// </summary>
public sealed class CostRollupGrain(
    CostHourScanner scanner,
    IOptions<CostOptions> options,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time) : Grain, ICostRollupGrain
{
    private readonly CostOptions _options = options.Value;
    private readonly Dictionary<int, HourRollup> _closed = [];
    private readonly Dictionary<int, HourRollup> _live = [];

    public async Task<CostSlice> SliceAsync(CostSliceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var dayStart = DayStart();
        var now = time.GetUtcNow();
        var requested = Enumerable.Range(0, 24)
            .Select(index => (Index: index, Hour: dayStart.AddHours(index)))
            .Where(h => h.Hour >= request.From && h.Hour < request.To && h.Hour <= now)
            .ToList();

        // Closed hours not yet in memory: ask their hour grains at once (each computes and stores its roll-up once).
        var missing = requested.Where(h => scanner.IsClosed(h.Hour, now) && !_closed.ContainsKey(h.Index)).ToList();
        var fetched = await Task.WhenAll(missing.Select(h => FinalOrNullAsync(h.Hour)));
        foreach (var rollup in fetched.OfType<HourRollup>())
        {
            var index = (int)(rollup.HourStart - dayStart).TotalHours;
            _closed[index] = rollup;
            _live.Remove(index);
        }

        var hours = new List<HourRollup>();
        var closed = 0;
        var live = 0;
        foreach (var (index, hour) in requested)
        {
            if (_closed.TryGetValue(index, out var final))
            {
                hours.Add(final);
                closed++;
                continue;
            }

            if (!_live.TryGetValue(index, out var cached) || now - cached.ComputedAt >= _options.LiveCacheFor || cached.ComputedAt > now)
            {
                cached = await scanner.RollUpAsync(hour, final: false, now);
                _live[index] = cached;
            }

            hours.Add(cached);
            live++;
        }

        return new CostSlice(Buckets(hours, request, dayStart), ActiveApps(hours), Incidents(hours), closed, live);
    }

    private async Task<HourRollup?> FinalOrNullAsync(DateTimeOffset hour)
    {
        try
        {
            return await GrainFactory.GetGrain<ICostHourGrain>(CostDays.HourKeyOf(hour)).GetFinalAsync();
        }
        catch (InvalidOperationException)
        {
            // The hour grain's silo clock says the grace period has not quite passed: answer the hour live this time.
            return null;
        }
    }

    private DateTimeOffset DayStart()
    {
        var key = this.GetPrimaryKeyString();
        try
        {
            return CostDays.StartOf(key);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"A cost roll-up grain is keyed by a UTC day (yyyy-MM-dd), not '{key}'.");
        }
    }

    private static List<CostBucket> Buckets(List<HourRollup> hours, CostSliceRequest request, DateTimeOffset dayStart)
    {
        var buckets = new List<CostBucket>();
        foreach (var dimension in request.Dimensions.Distinct())
        {
            foreach (var group in hours.GroupBy(h => request.ByHour ? h.HourStart : dayStart).OrderBy(g => g.Key))
            {
                var sums = new SortedDictionary<string, CostTotals>(StringComparer.Ordinal);
                foreach (var cell in group.SelectMany(h => h.Cells))
                {
                    var key = cell.KeyOf(dimension);
                    sums[key] = sums.TryGetValue(key, out var sum) ? sum.Add(cell.Totals) : cell.Totals;
                }

                buckets.AddRange(sums.Select(s => new CostBucket(group.Key, dimension, s.Key, s.Value)));
            }
        }

        return buckets;
    }

    private static int ActiveApps(List<HourRollup> hours) =>
        hours.SelectMany(h => h.Cells).Select(c => c.AppId).Where(a => a.Length > 0).Distinct(StringComparer.Ordinal).Count();

    private List<CostIncident> Incidents(List<HourRollup> hours) =>
        hours.SelectMany(h => CostRollup.Incidents(h.HourStart, h.Cells, _options.IncidentMinEvents, _options.IncidentMinShare)).ToList();
}
