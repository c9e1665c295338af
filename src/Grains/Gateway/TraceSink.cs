using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Where trace events go. The governed call awaits every registered sink before it answers, so a durable sink
/// can guarantee that an answered call's event is stored.
/// </summary>
public interface ITraceSink
{
    /// <summary>
    /// Takes one event and, when the app's call was sampled, its redacted prompt sample. Must not throw, and must
    /// bound how long it waits (telemetry never fails or hangs a call).
    /// </summary>
    ValueTask RecordAsync(TraceEvent traceEvent, PromptSample? sample = null);
}

/// <summary>
/// A structured log line at Debug and a ring of recent events in memory (per silo, lost on restart). Always
/// registered; the durable sink is <see cref="Telemetry.TraceWriter"/>.
/// </summary>
public sealed class InMemoryTraceSink(ILogger<InMemoryTraceSink> logger) : ITraceSink
{
    public const int Capacity = 1024;

    private readonly TraceEvent[] _ring = new TraceEvent[Capacity];
    private readonly Lock _lock = new();
    private long _count;

    /// <summary>Events recorded since start, including those the ring no longer holds.</summary>
    public long Count => Interlocked.Read(ref _count);

    public ValueTask RecordAsync(TraceEvent traceEvent, PromptSample? sample = null)
    {
        Record(traceEvent);
        return ValueTask.CompletedTask;
    }

    /// <summary>Adds the event to the ring and logs it.</summary>
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
