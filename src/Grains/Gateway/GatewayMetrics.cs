using System.Diagnostics.Metrics;

namespace MicroApps.Orleans.Gateway;

/// <summary>Metrics of governed calls on the meter <c>MicroApps.Orleans</c>.</summary>
public sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "MicroApps.Orleans";

    private readonly Meter _meter;
    private readonly Counter<long> _calls;
    private readonly Counter<long> _tokens;
    private readonly Counter<double> _cost;
    private readonly Histogram<double> _latency;

    public GatewayMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _calls = _meter.CreateCounter<long>("microapps.gateway.calls", "{call}", "Governed model calls by outcome and tier.");
        _tokens = _meter.CreateCounter<long>("microapps.gateway.tokens", "{token}", "Tokens used by governed calls, by direction and tier.");
        _cost = _meter.CreateCounter<double>("microapps.gateway.cost", "USD", "Actual cost of governed calls.");
        _latency = _meter.CreateHistogram<double>("microapps.gateway.latency", "ms", "Latency of governed calls.");
    }

    public void Record(TraceEvent traceEvent)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", traceEvent.Outcome);
        var tier = new KeyValuePair<string, object?>("tier", traceEvent.ModelTier);
        _calls.Add(1, outcome, tier);
        _latency.Record(traceEvent.LatencyMs, outcome, tier);
        if (traceEvent.TokensIn > 0)
        {
            _tokens.Add(traceEvent.TokensIn, new KeyValuePair<string, object?>("direction", "input"), tier);
        }

        if (traceEvent.TokensOut > 0)
        {
            _tokens.Add(traceEvent.TokensOut, new KeyValuePair<string, object?>("direction", "output"), tier);
        }

        if (traceEvent.CostActualUsd > 0)
        {
            _cost.Add((double)traceEvent.CostActualUsd, tier);
        }
    }

    public void Dispose() => _meter.Dispose();
}
