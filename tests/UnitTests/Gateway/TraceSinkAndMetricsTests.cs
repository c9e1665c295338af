using System.Diagnostics.Metrics;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.Logging.Abstractions;

namespace MicroApps.Orleans.UnitTests.Gateway;

public sealed class TraceSinkAndMetricsTests
{
    private static TraceEvent Event(string requestId, string outcome = "Completed", int tokensIn = 10, int tokensOut = 5, decimal cost = 0.25m) =>
        new("app-a", requestId, "fake-small", "standard", tokensIn, tokensOut, 12.5, "v1", 0.5m, "standard:fake-small", outcome, null, "finance", "hash", false, cost, DateTimeOffset.UnixEpoch, []);

    [Fact]
    public void The_sink_keeps_the_most_recent_events_in_order()
    {
        var sink = new InMemoryTraceSink(NullLogger<InMemoryTraceSink>.Instance);
        for (var i = 0; i < InMemoryTraceSink.Capacity + 3; i++)
        {
            sink.Record(Event($"r{i}"));
        }

        var recent = sink.Recent();
        Assert.Equal(InMemoryTraceSink.Capacity, recent.Count);
        Assert.Equal("r3", recent[0].RequestId);
        Assert.Equal($"r{InMemoryTraceSink.Capacity + 2}", recent[^1].RequestId);
        Assert.Equal(["r1025", "r1026"], sink.Recent(2).Select(e => e.RequestId));
        Assert.Equal(InMemoryTraceSink.Capacity + 3, sink.Count);
    }

    [Fact]
    public void Calls_tokens_cost_and_latency_are_measured_on_the_microapps_meter()
    {
        using var metrics = new GatewayMetrics();
        var measurements = new List<(string Instrument, double Value, string? Outcome)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GatewayMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? outcome = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    outcome = tag.Value as string;
                }
            }

            measurements.Add((instrument.Name, value, outcome));
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => OnMeasurement(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => OnMeasurement(i, v, t));
        listener.Start();

        metrics.Record(Event("r1"));
        metrics.Record(Event("r2", outcome: "BudgetExceeded", tokensIn: 0, tokensOut: 0, cost: 0m));

        Assert.Equal(["success", "throttled"], measurements.Where(m => m.Instrument == "microapps.gateway.requests").Select(m => m.Outcome));
        Assert.Equal(15, measurements.Where(m => m.Instrument == "microapps.gateway.tokens").Sum(m => m.Value));
        Assert.Equal(0.25, measurements.Single(m => m.Instrument == "microapps.gateway.cost").Value, 6);
        Assert.Equal(2, measurements.Count(m => m.Instrument == "microapps.gateway.latency"));
    }
}
