using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;

namespace MicroApps.Orleans.Budgets;

/// <summary>
/// The gauge <c>microapps.budget.utilisation</c> (settled spend / limit) on the meter <c>MicroApps.Orleans</c>, fed by
/// the budget grains active on this silo. The <c>budget</c> label is bounded by a <see cref="SeriesCap"/>
/// (<c>Telemetry:Metrics:PerAppSeriesCap</c>): budgets over the cap share the series <c>_other</c>, which reports the
/// highest utilisation among them, the one an operator must not miss.
/// </summary>
public sealed class BudgetMetrics : IDisposable
{
    public const string GaugeName = "microapps.budget.utilisation";

    private readonly ConcurrentDictionary<string, double> _utilisation = new(StringComparer.Ordinal);
    private readonly SeriesCap _cap;
    private readonly Meter _meter;

    public BudgetMetrics(IMeterFactory? meterFactory, int seriesCap)
    {
        _cap = new SeriesCap(seriesCap);
        _meter = meterFactory?.Create(GatewayMetrics.MeterName) ?? new Meter(GatewayMetrics.MeterName);
        _meter.CreateObservableGauge(GaugeName, Observe, "1", "Settled spend of a budget as a share of its limit, per budget active on this silo.");
    }

    /// <summary>Records the current utilisation of <paramref name="budgetId"/>.</summary>
    public void Report(string budgetId, double utilisation) => _utilisation[budgetId] = utilisation;

    /// <summary>Stops reporting a budget (its grain left this silo).</summary>
    public void Remove(string budgetId) => _utilisation.TryRemove(budgetId, out _);

    /// <summary>The measurements the gauge reports now, one per label value.</summary>
    public IReadOnlyList<Measurement<double>> Observe()
    {
        var byLabel = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (budgetId, utilisation) in _utilisation)
        {
            var label = _cap.Label(budgetId);
            byLabel[label] = byLabel.TryGetValue(label, out var seen) ? Math.Max(seen, utilisation) : utilisation;
        }

        return [.. byLabel.Select(b => new Measurement<double>(b.Value, new KeyValuePair<string, object?>("budget", b.Key)))];
    }

    public void Dispose() => _meter.Dispose();
}
