using System.Diagnostics.Metrics;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Savings;
using MicroApps.Orleans.Telemetry;

namespace MicroApps.Orleans.UnitTests.Caching;

public sealed class NearDuplicateMetricsTests
{
    private static TraceEvent Event(bool cacheHit, string? saving, params string[] decisions) =>
        new("app-a", Guid.NewGuid().ToString("N"), "fake-small", "standard", 10, 5, 1, "v1", 0.5m, "cache",
            cacheHit ? TraceOutcomes.CacheHit : TraceOutcomes.Success, null, "finance", "hash", cacheHit, 0m, DateTimeOffset.UnixEpoch, decisions, Saving: saving);

    [Fact]
    public void Near_duplicate_hits_are_counted_apart_from_exact_hits()
    {
        using var factory = new IsolatedMeterFactory();
        using var metrics = new GatewayMetrics(factory);
        var results = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == factory.UniqueName && instrument.Name == GatewayMetrics.CacheInstrument)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "result")
                {
                    results.Add((string)tag.Value!);
                }
            }
        });
        listener.Start();

        metrics.Record(Event(true, SavingKinds.Cache, "cache:hit"));
        metrics.Record(Event(true, SavingKinds.NearDuplicate, "cache:miss", "cache:near-hit:0.93"));
        metrics.Record(Event(true, SavingKinds.Cache, "cache:single-flight"));
        metrics.Record(Event(false, SavingKinds.None, "cache:miss"));

        Assert.Equal(["hit", "near_hit", "hit", "miss"], results);
    }

    private sealed class IsolatedMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public string UniqueName { get; } = $"{GatewayMetrics.MeterName}.neardup-test-{Guid.NewGuid():N}";

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(new MeterOptions(UniqueName) { Version = options.Version, Scope = this });
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
