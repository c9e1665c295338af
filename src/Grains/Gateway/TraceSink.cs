using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Gateway;

/// <summary>Where trace events go. Durable storage and search plug in here.</summary>
public interface ITraceSink
{
    /// <summary>Takes one event; must not block or throw (the call's answer does not wait for it).</summary>
    void Record(TraceEvent traceEvent);
}

/// <summary>
/// Default sink: a structured log line at Debug and a ring of recent events in memory (per silo, lost on
/// restart). Durable telemetry is a separate sink.
/// </summary>
public sealed class InMemoryTraceSink(ILogger<InMemoryTraceSink> logger) : ITraceSink
{
    public const int Capacity = 1024;

    private readonly TraceEvent[] _ring = new TraceEvent[Capacity];
    private readonly Lock _lock = new();
    private long _count;

    /// <summary>Events recorded since start, including those the ring no longer holds.</summary>
    public long Count => Interlocked.Read(ref _count);

    public void Record(TraceEvent traceEvent)
    {
        lock (_lock)
        {
            _ring[_count % Capacity] = traceEvent;
            _count++;
        }

        logger.LogDebug(
            "Governed call {AppId}/{RequestId} {Outcome} model={Model} tier={ModelTier} route={Route} tokens_in={TokensIn} tokens_out={TokensOut} cost_estimate_usd={CostEstimateUsd} cost_actual_usd={CostActualUsd} latency_ms={LatencyMs} cache_hit={CacheHit} prompt_version={PromptVersion} prompt_hash={PromptHash}",
            traceEvent.AppId, traceEvent.RequestId, traceEvent.Outcome, traceEvent.Model, traceEvent.ModelTier, traceEvent.Route,
            traceEvent.TokensIn, traceEvent.TokensOut, traceEvent.CostEstimateUsd, traceEvent.CostActualUsd, traceEvent.LatencyMs,
            traceEvent.CacheHit, traceEvent.PromptVersion, traceEvent.PromptHash);
    }

    /// <summary>The newest events, newest last.</summary>
    public IReadOnlyList<TraceEvent> Recent(int max = Capacity)
    {
        lock (_lock)
        {
            var take = (int)Math.Min(Math.Min(max, Capacity), _count);
            var result = new TraceEvent[take];
            for (var i = 0; i < take; i++)
            {
                result[i] = _ring[(_count - take + i) % Capacity];
            }

            return result;
        }
    }
}
