using System.Diagnostics.Metrics;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace MicroApps.Orleans.UnitTests.Telemetry;

/// <summary>
/// <see cref="GatewayMetrics"/> collected through the OpenTelemetry SDK (in-memory exporter), as an exporter would see it.
/// Each test gets its own meter (see <see cref="IsolatedMeterFactory"/>), so tests running in parallel never mix.
/// </summary>
public sealed class GatewayMetricsTests
{
    private static TraceEvent Event(
        string appId,
        string outcome = TraceOutcomes.Success,
        string tier = "standard",
        int tokensIn = 10,
        int tokensOut = 5,
        decimal cost = 0.25m,
        double latencyMs = 12.5,
        bool cacheHit = false,
        string? errorCode = null,
        params string[] decisions) =>
        new(appId, Guid.NewGuid().ToString("N"), "fake-small", tier, tokensIn, tokensOut, latencyMs, "v1", 0.5m, $"{tier}:fake-small", outcome, null,
            "finance", "hash", cacheHit, cost, DateTimeOffset.UnixEpoch, decisions, ErrorCode: errorCode);

    private sealed class Collected(IReadOnlyList<MetricSnapshot> metrics)
    {
        public IEnumerable<(Dictionary<string, string> Tags, double Sum)> Points(string instrument)
        {
            var metric = metrics.Where(m => m.Name == instrument).ToList();
            Assert.True(metric.Count == 1, $"{instrument} was exported {metric.Count} times");
            foreach (var point in metric[0].MetricPoints)
            {
                var tags = new Dictionary<string, string>();
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = (string)tag.Value!;
                }

                var sum = metric[0].MetricType switch
                {
                    MetricType.LongSum => point.GetSumLong(),
                    MetricType.DoubleSum => point.GetSumDouble(),
                    MetricType.Histogram => point.GetHistogramSum(),
                    _ => throw new InvalidOperationException($"unexpected {metric[0].MetricType}"),
                };
                yield return (tags, sum);
            }
        }

        public double Sum(string instrument, params (string Key, string Value)[] filter) =>
            Points(instrument).Where(p => filter.All(f => p.Tags.GetValueOrDefault(f.Key) == f.Value)).Sum(p => p.Sum);

        public MetricSnapshot Metric(string instrument) => metrics.Single(m => m.Name == instrument);
    }

    /// <summary>Creates the meter GatewayMetrics asks for under a name of its own, so a test collects only its own measurements.</summary>
    private sealed class IsolatedMeterFactory : IMeterFactory
    {
        public string UniqueName { get; } = $"{GatewayMetrics.MeterName}.test-{Guid.NewGuid():N}";

        public string? RequestedName { get; private set; }

        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            RequestedName = options.Name;
            var meter = new Meter(new MeterOptions(UniqueName) { Version = options.Version, Scope = this });
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }

    private static Collected Collect(Action<GatewayMetrics> record, int perAppSeriesCap = 100)
    {
        using var factory = new IsolatedMeterFactory();
        var exported = new List<MetricSnapshot>();
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter(factory.UniqueName).AddInMemoryExporter(exported).Build();
        using var metrics = new GatewayMetrics(factory, Options.Create(new GatewayMetricsOptions { PerAppSeriesCap = perAppSeriesCap }));
        record(metrics);

        // One collection: disposing the provider would export a second, cumulative copy.
        Assert.True(provider.ForceFlush());
        Assert.Equal(GatewayMetrics.MeterName, factory.RequestedName);
        return new Collected(exported.ToList());
    }

    [Fact]
    public void The_app_label_is_capped_with_5000_apps_and_the_rest_is_reported_as_other_with_exact_totals()
    {
        const int apps = 5_000;
        const int cap = 100;
        var appsWithOwnSeries = 0;
        var collected = Collect(metrics =>
        {
            for (var i = 0; i < apps; i++)
            {
                // Every app calls twice (the second call of an admitted app must reuse its series); app i costs i cents.
                metrics.Record(Event($"app-{i:D4}", tokensIn: 100, tokensOut: i % 7, cost: i / 100m));
                metrics.Record(Event($"app-{i:D4}", TraceOutcomes.Throttled, tokensIn: 0, tokensOut: 0, cost: 0m, errorCode: "rate_limited"));
            }

            appsWithOwnSeries = metrics.AppsWithOwnSeries;
        }, cap);

        Assert.Equal(cap, appsWithOwnSeries);
        foreach (var instrument in new[] { GatewayMetrics.RequestsInstrument, GatewayMetrics.TokensInstrument, GatewayMetrics.CostInstrument, GatewayMetrics.RefusalsInstrument })
        {
            var labels = collected.Points(instrument).Select(p => p.Tags["app"]).Distinct().ToList();
            Assert.True(labels.Count <= cap + 1, $"{instrument} has {labels.Count} app label values");
            Assert.Contains(SeriesCap.Other, labels);
        }

        // The first apps seen keep their own series; everyone after them is "_other", and nothing is lost.
        var requestApps = collected.Points(GatewayMetrics.RequestsInstrument).Select(p => p.Tags["app"]).Distinct().Order().ToList();
        Assert.Equal(Enumerable.Range(0, cap).Select(i => $"app-{i:D4}").Append(SeriesCap.Other).Order(), requestApps);
        Assert.Equal(2 * apps, collected.Sum(GatewayMetrics.RequestsInstrument));
        Assert.Equal(2 * (apps - cap), collected.Sum(GatewayMetrics.RequestsInstrument, ("app", SeriesCap.Other)));
        Assert.Equal(2, collected.Sum(GatewayMetrics.RequestsInstrument, ("app", "app-0042")));
        Assert.Equal(apps, collected.Sum(GatewayMetrics.RefusalsInstrument));
        Assert.Equal(apps - cap, collected.Sum(GatewayMetrics.RefusalsInstrument, ("app", SeriesCap.Other)));
        Assert.Equal(100 * apps, collected.Sum(GatewayMetrics.TokensInstrument, ("direction", "input")));
        Assert.Equal(Enumerable.Range(0, apps).Sum(i => i % 7), collected.Sum(GatewayMetrics.TokensInstrument, ("direction", "output")));
        Assert.Equal((double)Enumerable.Range(0, apps).Sum(i => i / 100m), collected.Sum(GatewayMetrics.CostInstrument), 6);
        Assert.Equal((double)Enumerable.Range(cap, apps - cap).Sum(i => i / 100m), collected.Sum(GatewayMetrics.CostInstrument, ("app", SeriesCap.Other)), 6);
    }

    [Fact]
    public void Requests_are_counted_by_outcome_tier_and_app_and_old_outcome_names_fold_onto_trace_outcomes()
    {
        var collected = Collect(metrics =>
        {
            metrics.Record(Event("app-a"));
            metrics.Record(Event("app-a", "Completed"));
            metrics.Record(Event("app-a", TraceOutcomes.CacheHit, cacheHit: true, cost: 0m));
            metrics.Record(Event("app-b", "BudgetExceeded", tier: "premium", errorCode: "budget_exceeded"));
            metrics.Record(Event("app-b", TraceOutcomes.Blocked, tier: "", errorCode: "policy_blocked"));
            metrics.Record(Event("app-b", "Cancelled"));
            metrics.Record(Event("app-b", "3"));
        });

        Assert.Equal(2, collected.Sum(GatewayMetrics.RequestsInstrument, ("outcome", TraceOutcomes.Success), ("tier", "standard"), ("app", "app-a")));
        Assert.Equal(1, collected.Sum(GatewayMetrics.RequestsInstrument, ("outcome", TraceOutcomes.CacheHit), ("app", "app-a")));
        Assert.Equal(1, collected.Sum(GatewayMetrics.RequestsInstrument, ("outcome", TraceOutcomes.Throttled), ("tier", "premium"), ("app", "app-b")));
        Assert.Equal(1, collected.Sum(GatewayMetrics.RequestsInstrument, ("outcome", TraceOutcomes.Blocked), ("tier", GatewayMetrics.None)));
        Assert.Equal(2, collected.Sum(GatewayMetrics.RequestsInstrument, ("outcome", TraceOutcomes.Error), ("app", "app-b")));
        var outcomes = collected.Points(GatewayMetrics.RequestsInstrument).Select(p => p.Tags["outcome"]).Distinct();
        Assert.All(outcomes, o => Assert.Contains(o, TraceOutcomes.All));
    }

    [Fact]
    public void Throttles_and_blocks_are_counted_by_reason_and_answered_calls_are_not_refusals()
    {
        var collected = Collect(metrics =>
        {
            metrics.Record(Event("app-a", TraceOutcomes.Blocked, errorCode: "policy_blocked"));
            metrics.Record(Event("app-a", TraceOutcomes.Throttled, errorCode: "rate_limited"));
            metrics.Record(Event("app-a", TraceOutcomes.Throttled, errorCode: "budget_exceeded"));
            metrics.Record(Event("app-b", TraceOutcomes.Throttled, errorCode: "budget_exceeded"));
            metrics.Record(Event("app-b", TraceOutcomes.Throttled));
            metrics.Record(Event("app-b", TraceOutcomes.Invalid, errorCode: "unknown_model"));
            metrics.Record(Event("app-b", TraceOutcomes.Success));
            metrics.Record(Event("app-b", TraceOutcomes.CacheHit, cacheHit: true));
            metrics.Record(Event("app-b", TraceOutcomes.Error, errorCode: "all_models_failed"));
        });

        Assert.Equal(1, collected.Sum(GatewayMetrics.RefusalsInstrument, ("outcome", TraceOutcomes.Blocked), ("reason", "policy_blocked")));
        Assert.Equal(1, collected.Sum(GatewayMetrics.RefusalsInstrument, ("outcome", TraceOutcomes.Throttled), ("reason", "rate_limited")));
        Assert.Equal(2, collected.Sum(GatewayMetrics.RefusalsInstrument, ("outcome", TraceOutcomes.Throttled), ("reason", "budget_exceeded")));
        Assert.Equal(1, collected.Sum(GatewayMetrics.RefusalsInstrument, ("outcome", TraceOutcomes.Throttled), ("reason", GatewayMetrics.None)));
        Assert.Equal(1, collected.Sum(GatewayMetrics.RefusalsInstrument, ("outcome", TraceOutcomes.Invalid), ("reason", "unknown_model")));
        Assert.Equal(6, collected.Sum(GatewayMetrics.RefusalsInstrument));
        Assert.Equal(1, collected.Sum(GatewayMetrics.RefusalsInstrument, ("app", "app-b"), ("reason", "budget_exceeded")));
    }

    [Fact]
    public void Cache_hits_misses_and_bypasses_come_from_the_trace_and_calls_refused_before_the_cache_count_as_neither()
    {
        var collected = Collect(metrics =>
        {
            metrics.Record(Event("app-a", TraceOutcomes.CacheHit, cacheHit: true, cost: 0m, decisions: "cache:hit"));
            metrics.Record(Event("app-a", TraceOutcomes.CacheHit, cacheHit: true, cost: 0m, decisions: "cache:hit"));
            metrics.Record(Event("app-a", decisions: ["admit", "cache:miss"]));
            metrics.Record(Event("app-a", TraceOutcomes.Error, decisions: "cache:miss"));
            metrics.Record(Event("app-b", decisions: "cache:bypass"));
            metrics.Record(Event("app-b", TraceOutcomes.Throttled, errorCode: "budget_exceeded", decisions: "refused:budget_exceeded"));
        });

        Assert.Equal(2, collected.Sum(GatewayMetrics.CacheInstrument, ("result", "hit"), ("app", "app-a")));
        Assert.Equal(2, collected.Sum(GatewayMetrics.CacheInstrument, ("result", "miss")));
        Assert.Equal(1, collected.Sum(GatewayMetrics.CacheInstrument, ("result", "bypass"), ("app", "app-b")));
        Assert.Equal(5, collected.Sum(GatewayMetrics.CacheInstrument));
    }

    [Fact]
    public void Tokens_and_cost_are_counted_by_direction_tier_and_app()
    {
        var collected = Collect(metrics =>
        {
            metrics.Record(Event("app-a", tokensIn: 100, tokensOut: 20, cost: 0.5m));
            metrics.Record(Event("app-a", tier: "premium", tokensIn: 7, tokensOut: 3, cost: 1.25m));
            // A hit's event carries the cached answer's tokens (for the cost dashboard's savings); no model processed them.
            metrics.Record(Event("app-b", TraceOutcomes.CacheHit, tokensIn: 40, tokensOut: 10, cost: 0m, cacheHit: true));
        });

        Assert.DoesNotContain(collected.Points(GatewayMetrics.TokensInstrument), p => p.Tags["app"] == "app-b");
        Assert.Equal(100, collected.Sum(GatewayMetrics.TokensInstrument, ("direction", "input"), ("tier", "standard"), ("app", "app-a")));
        Assert.Equal(20, collected.Sum(GatewayMetrics.TokensInstrument, ("direction", "output"), ("tier", "standard")));
        Assert.Equal(3, collected.Sum(GatewayMetrics.TokensInstrument, ("direction", "output"), ("tier", "premium")));
        Assert.Equal(1.75, collected.Sum(GatewayMetrics.CostInstrument, ("app", "app-a")), 9);
        Assert.DoesNotContain(collected.Points(GatewayMetrics.CostInstrument), p => p.Tags["app"] == "app-b");
        Assert.Equal("USD", collected.Metric(GatewayMetrics.CostInstrument).Unit);
    }

    [Fact]
    public void Latency_is_a_millisecond_histogram_with_the_advised_bucket_boundaries()
    {
        var collected = Collect(metrics =>
        {
            metrics.Record(Event("app-a", latencyMs: 3));
            metrics.Record(Event("app-a", latencyMs: 4));
            metrics.Record(Event("app-a", latencyMs: 700));
            metrics.Record(Event("app-a", latencyMs: 200_000));
        });

        var latency = collected.Metric(GatewayMetrics.LatencyInstrument);
        Assert.Equal("ms", latency.Unit);
        var point = Assert.Single(latency.MetricPoints);
        var tagKeys = new List<string>();
        foreach (var tag in point.Tags)
        {
            tagKeys.Add(tag.Key);
        }

        Assert.Equal(["outcome", "tier"], tagKeys.Order());
        var buckets = new List<(double Bound, long Count)>();
        foreach (var bucket in point.GetHistogramBuckets())
        {
            buckets.Add((bucket.ExplicitBound, bucket.BucketCount));
        }

        Assert.Equal(GatewayMetrics.LatencyBucketsMs.Append(double.PositiveInfinity), buckets.Select(b => b.Bound));
        Assert.Equal(2, buckets.Single(b => b.Bound == 5).Count);
        Assert.Equal(1, buckets.Single(b => b.Bound == 1_000).Count);
        Assert.Equal(1, buckets.Single(b => double.IsPositiveInfinity(b.Bound)).Count);
        Assert.Equal(4, point.GetHistogramCount());
        Assert.Equal(200_707, point.GetHistogramSum(), 6);
    }

    [Fact]
    public void Calls_with_keys_that_did_not_authenticate_never_take_an_app_series()
    {
        var appsWithOwnSeries = -1;
        var collected = Collect(metrics =>
        {
            for (var i = 0; i < 50; i++)
            {
                metrics.Record(Event($"claimed-{i}", TraceOutcomes.Unauthorized, tokensIn: 0, tokensOut: 0, cost: 0m, errorCode: "invalid_api_key"));
            }

            metrics.Record(Event("real-app"));
            appsWithOwnSeries = metrics.AppsWithOwnSeries;
        }, perAppSeriesCap: 2);

        Assert.Equal(1, appsWithOwnSeries);
        Assert.Equal(50, collected.Sum(GatewayMetrics.RequestsInstrument, ("app", GatewayMetrics.Unauthenticated)));
        Assert.Equal(50, collected.Sum(GatewayMetrics.RefusalsInstrument, ("outcome", TraceOutcomes.Unauthorized), ("reason", "invalid_api_key")));
        Assert.Equal(1, collected.Sum(GatewayMetrics.RequestsInstrument, ("app", "real-app")));
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(100, true)]
    [InlineData(GatewayMetricsOptions.MaxPerAppSeriesCap, true)]
    [InlineData(GatewayMetricsOptions.MaxPerAppSeriesCap + 1, false)]
    public void The_per_app_series_cap_is_validated_and_a_failure_names_the_setting(int cap, bool valid)
    {
        var result = new GatewayMetricsOptionsValidator().Validate(null, new GatewayMetricsOptions { PerAppSeriesCap = cap });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Telemetry:Metrics:PerAppSeriesCap", result.FailureMessage);
        }
    }

    [Fact]
    public void A_cap_of_zero_reports_every_app_as_other()
    {
        var collected = Collect(metrics =>
        {
            metrics.Record(Event("app-a"));
            metrics.Record(Event("app-b"));
        }, perAppSeriesCap: 0);

        Assert.Equal([SeriesCap.Other], collected.Points(GatewayMetrics.RequestsInstrument).Select(p => p.Tags["app"]).Distinct());
        Assert.Equal(2, collected.Sum(GatewayMetrics.RequestsInstrument));
    }

    [Fact]
    public void With_nobody_collecting_a_call_is_not_labelled_and_takes_no_app_series()
    {
        using var factory = new IsolatedMeterFactory();
        using var metrics = new GatewayMetrics(factory, Options.Create(new GatewayMetricsOptions { PerAppSeriesCap = 1 }));

        metrics.Record(Event("early-app"));

        Assert.Equal(0, metrics.AppsWithOwnSeries);
        var collected = Collect(m =>
        {
            m.Record(Event("early-app"));
            Assert.Equal(1, m.AppsWithOwnSeries);
        }, perAppSeriesCap: 1);
        Assert.Equal(1, collected.Sum(GatewayMetrics.RequestsInstrument, ("app", "early-app")));
    }
}
