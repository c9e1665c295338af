using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Cost;

/// <summary>Stored roll-ups of a day's closed hours (key: hour of day 0–23).</summary>
[GenerateSerializer, Alias("microapps.CostDayState")]
public sealed class CostDayState
{
    [Id(0)]
    public Dictionary<int, HourRollup> Hours { get; set; } = [];
}

/// <summary>
/// The cost roll-up of one UTC day. A closed hour is read from the trace store once (every app active in it, one hour
/// partition each), stored, and answered from state from then on: late events in a closed hour are not counted, so
/// closed figures never move. The grace period (<see cref="CostOptions.RollupGrace"/>) covers the trace writer's batching.
/// Open hours are computed live and reused for <see cref="CostOptions.LiveCacheFor"/>, so a busy dashboard reads the
/// store at most once per open hour per that interval.
/// </summary>
public sealed class CostRollupGrain(
    [PersistentState("costday", "store")] IPersistentState<CostDayState> state,
    ITraceStore store,
    ModelCatalog catalog,
    IOptions<CostOptions> options,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    ILogger<CostRollupGrain> logger) : Grain, ICostRollupGrain
{
    private readonly CostOptions _options = options.Value;
    private readonly Dictionary<int, HourRollup> _live = [];

    public async Task<CostSlice> SliceAsync(CostSliceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var dayStart = DayStart();
        var now = time.GetUtcNow();
        var hours = new List<HourRollup>();
        var closed = 0;
        var live = 0;
        var newlyClosed = false;
        for (var index = 0; index < 24; index++)
        {
            var hour = dayStart.AddHours(index);
            if (hour < request.From || hour >= request.To || hour > now)
            {
                continue;
            }

            if (now >= hour.AddHours(1) + _options.RollupGrace)
            {
                if (!state.State.Hours.TryGetValue(index, out var stored))
                {
                    stored = await ComputeAsync(hour, final: true, now);
                    state.State.Hours[index] = stored;
                    _live.Remove(index);
                    newlyClosed = true;
                }

                hours.Add(stored);
                closed++;
            }
            else
            {
                if (!_live.TryGetValue(index, out var cached) || now - cached.ComputedAt >= _options.LiveCacheFor || cached.ComputedAt > now)
                {
                    cached = await ComputeAsync(hour, final: false, now);
                    _live[index] = cached;
                }

                hours.Add(cached);
                live++;
            }
        }

        if (newlyClosed)
        {
            // Written before the reply: a closed hour is computed once, not again by the next activation.
            await state.WriteStateAsync();
        }

        return new CostSlice(Buckets(hours, request, dayStart), ActiveApps(hours), Incidents(hours), closed, live);
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

    private async Task<HourRollup> ComputeAsync(DateTimeOffset hour, bool final, DateTimeOffset now)
    {
        var apps = await store.AppsActiveInHourAsync(hour);
        var cells = new List<CostCell>();
        foreach (var chunk in apps.Chunk(_options.ScanParallelism))
        {
            // One hour partition per app; each read builds its own cells, so the parallel reads share nothing.
            foreach (var part in await Task.WhenAll(chunk.Select(app => ScanAsync(app, hour))))
            {
                cells.AddRange(part);
            }
        }

        if (final)
        {
            logger.LogInformation("Cost roll-up of closed hour {Hour:u}: {Apps} apps, {Cells} cells", hour, apps.Count, cells.Count);
        }

        return new HourRollup(hour, cells, final, now);
    }

    private async Task<IReadOnlyList<CostCell>> ScanAsync(string appId, DateTimeOffset hour)
    {
        var events = new List<TraceEvent>();
        await foreach (var traceEvent in store.ScanHourAsync(appId, hour))
        {
            events.Add(traceEvent);
        }

        return CostRollup.Aggregate(events, catalog);
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
