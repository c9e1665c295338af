using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Savings;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;

namespace MicroApps.Orleans.Cost;

/// <summary>
/// Turns trace events into cost cells. Plain and deterministic: the same events and the same model catalog give the
/// same cells, in the same order, whatever order the events come in.
/// </summary>
public static class CostRollup
{
    /// <summary>
    /// The <see cref="TraceOutcomes"/> value of an event's outcome. Events written before the trace pipeline used
    /// trace outcomes carry a <see cref="GovernedOutcome"/> name (<c>Completed</c>, <c>CacheHit</c>…) and map through
    /// <see cref="TraceOutcomes.Normalize"/>; anything else (<c>Cancelled</c>, <c>Error</c>) is an error.
    /// </summary>
    public static string OutcomeOf(TraceEvent traceEvent)
    {
        ArgumentNullException.ThrowIfNull(traceEvent);
        var normalized = TraceOutcomes.Normalize(traceEvent.Outcome);

        // The cache flag is the older events' only sign of a hit answered with outcome "Completed".
        return traceEvent.CacheHit && normalized == TraceOutcomes.Success ? TraceOutcomes.CacheHit : normalized;
    }

    /// <summary>
    /// What a cache hit saved: its token counts priced on the model that served it with the catalog's prices
    /// (<see cref="PriceCalculator.Cost"/>, the price the call would have been charged on a miss). Null when the model is
    /// not in the catalog or the event carries no token counts: such a hit is counted as unpriced, never guessed.
    /// </summary>
    public static decimal? CacheSaving(TraceEvent traceEvent, ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(traceEvent);
        ArgumentNullException.ThrowIfNull(catalog);
        if (traceEvent.TokensIn <= 0 && traceEvent.TokensOut <= 0)
        {
            return null;
        }

        var resolution = catalog.Resolve(traceEvent.Model, defaultTier: "");
        if (resolution?.PinnedModel is null)
        {
            return null;
        }

        return PriceCalculator.Cost(resolution.Candidates[0], Math.Max(0, traceEvent.TokensIn), Math.Max(0, traceEvent.TokensOut));
    }

    /// <summary>
    /// An event's baseline, saving and overspend: the baseline is <c>BaselineCostUsd</c>, or the actual cost when the
    /// event has none (written before baselines were traced, or a call that never reached routing); the saving is the
    /// baseline above the actual cost, the overspend the actual cost above the baseline (at most one is non-zero).
    /// </summary>
    public static (decimal Baseline, decimal Saved, decimal Over) BaselineOf(TraceEvent traceEvent)
    {
        ArgumentNullException.ThrowIfNull(traceEvent);
        var actual = traceEvent.CostActualUsd;
        var baseline = traceEvent.BaselineCostUsd ?? actual;
        return (baseline, Math.Max(0m, baseline - actual), Math.Max(0m, actual - baseline));
    }

    /// <summary>The cells (one per app, team, tier and model) of <paramref name="events"/>, ordered by those keys.</summary>
    public static IReadOnlyList<CostCell> Aggregate(IEnumerable<TraceEvent> events, ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(events);
        var cells = new Dictionary<(string, string, string, string), Accumulator>();
        foreach (var traceEvent in events)
        {
            var key = (traceEvent.AppId ?? "", traceEvent.Team ?? "", traceEvent.ModelTier ?? "", traceEvent.Model ?? "");
            if (!cells.TryGetValue(key, out var accumulator))
            {
                cells[key] = accumulator = new Accumulator();
            }

            accumulator.Add(traceEvent, catalog);
        }

        return cells
            .OrderBy(c => c.Key.Item1, StringComparer.Ordinal)
            .ThenBy(c => c.Key.Item2, StringComparer.Ordinal)
            .ThenBy(c => c.Key.Item3, StringComparer.Ordinal)
            .ThenBy(c => c.Key.Item4, StringComparer.Ordinal)
            .Select(c => new CostCell(c.Key.Item1, c.Key.Item2, c.Key.Item3, c.Key.Item4, c.Value.ToTotals()))
            .ToList();
    }

    /// <summary>
    /// The incidents among <paramref name="cells"/> of one hour: per app, blocked + errored calls ≥ <paramref name="minEvents"/>
    /// and ≥ <paramref name="minShare"/> of the app's calls that hour. Events without an app id are no app's incident.
    /// </summary>
    public static IEnumerable<CostIncident> Incidents(DateTimeOffset hourStart, IEnumerable<CostCell> cells, int minEvents, double minShare) =>
        cells
            .Where(c => c.AppId.Length > 0)
            .GroupBy(c => c.AppId, StringComparer.Ordinal)
            .Select(g => new CostIncident(g.Key, hourStart, g.Sum(c => c.Totals.Blocked + c.Totals.Errors), g.Sum(c => c.Totals.Requests)))
            .Where(i => i.BlockedOrErrored >= minEvents && i.Calls > 0 && i.BlockedOrErrored >= minShare * i.Calls)
            .OrderBy(i => i.AppId, StringComparer.Ordinal);

    private sealed class Accumulator
    {
        private long requests, success, cacheHits, blocked, throttled, invalid, unauthorized, errors, tokensIn, tokensOut, unpriced;
        private decimal cost, saved, baseline, savedCache, savedNearDuplicate, savedRouting, savedSampling, savedOther, over;

        public void Add(TraceEvent e, ModelCatalog catalog)
        {
            requests++;
            cost += e.CostActualUsd;
            var (eventBaseline, eventSaved, eventOver) = BaselineOf(e);
            baseline += eventBaseline;
            over += eventOver;
            switch (e.Saving)
            {
                case SavingKinds.Cache:
                    savedCache += eventSaved;
                    break;
                case SavingKinds.NearDuplicate:
                    savedNearDuplicate += eventSaved;
                    break;
                case SavingKinds.Routing:
                    savedRouting += eventSaved;
                    break;
                case SavingKinds.Sampling:
                    savedSampling += eventSaved;
                    break;
                default:
                    savedOther += eventSaved;
                    break;
            }

            var outcome = OutcomeOf(e);

            // Tokens a model processed: a cache hit's tokens were processed by the call that filled the cache, and
            // are priced into the savings instead.
            if (outcome != TraceOutcomes.CacheHit)
            {
                tokensIn += Math.Max(0, e.TokensIn);
                tokensOut += Math.Max(0, e.TokensOut);
            }

            switch (outcome)
            {
                case TraceOutcomes.Success:
                    success++;
                    break;
                case TraceOutcomes.CacheHit:
                    cacheHits++;
                    if (CacheSaving(e, catalog) is { } saving)
                    {
                        saved += saving;
                    }
                    else
                    {
                        unpriced++;
                    }

                    break;
                case TraceOutcomes.Blocked:
                    blocked++;
                    break;
                case TraceOutcomes.Throttled:
                    throttled++;
                    break;
                case TraceOutcomes.Invalid:
                    invalid++;
                    break;
                case TraceOutcomes.Unauthorized:
                    unauthorized++;
                    break;
                default:
                    errors++;
                    break;
            }
        }

        public CostTotals ToTotals() =>
            new(requests, success, cacheHits, blocked, throttled, invalid, unauthorized, errors, tokensIn, tokensOut, cost, saved, unpriced,
                baseline, savedCache, savedNearDuplicate, savedRouting, savedSampling, savedOther, over);
    }
}
