using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Cost;

/// <summary>
/// Reads one hour of the trace store into cells: the apps active in the hour, then one hour partition per app
/// (up to <see cref="CostOptions.ScanParallelism"/> at once). Each read builds its own cells, so parallel reads share nothing.
/// </summary>
public sealed class CostHourScanner(ITraceStore store, ModelCatalog catalog, IOptions<CostOptions> options)
{
    private readonly CostOptions _options = options.Value;

    /// <summary>Whether the hour starting at <paramref name="hourStart"/> is closed at <paramref name="now"/>: ended more than the grace period ago.</summary>
    public bool IsClosed(DateTimeOffset hourStart, DateTimeOffset now) => now >= hourStart.AddHours(1) + _options.RollupGrace;

    /// <summary>The roll-up of the hour starting at <paramref name="hourStart"/>, as the store holds it now.</summary>
    public async Task<HourRollup> RollUpAsync(DateTimeOffset hourStart, bool final, DateTimeOffset now)
    {
        var apps = await store.AppsActiveInHourAsync(hourStart);
        var cells = new List<CostCell>();
        foreach (var chunk in apps.Chunk(_options.ScanParallelism))
        {
            foreach (var part in await Task.WhenAll(chunk.Select(app => ScanAsync(app, hourStart))))
            {
                cells.AddRange(part);
            }
        }

        return new HourRollup(hourStart, cells, final, now);
    }

    private async Task<IReadOnlyList<CostCell>> ScanAsync(string appId, DateTimeOffset hourStart)
    {
        var events = new List<TraceEvent>();
        await foreach (var traceEvent in store.ScanHourAsync(appId, hourStart))
        {
            events.Add(traceEvent);
        }

        return CostRollup.Aggregate(events, catalog);
    }
}
