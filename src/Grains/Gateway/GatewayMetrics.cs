using System.Diagnostics;
using System.Diagnostics.Metrics;
using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Metrics of governed calls on the meter <c>MicroApps.Orleans</c>, fed one <see cref="TraceEvent"/> per call.
/// Every label has a bounded set of values: outcomes are folded onto <see cref="TraceOutcomes"/>, and apps, tiers and
/// refusal reasons pass through a <see cref="SeriesCap"/>, so thousands of apps make at most
/// <see cref="GatewayMetricsOptions.PerAppSeriesCap"/> app ids plus <c>_other</c> (and the reserved <see cref="Unauthenticated"/>
/// and <see cref="None"/>) as <c>app</c> values while every total stays exact.
/// </summary>
public sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "MicroApps.Orleans";

    public const string RequestsInstrument = "microapps.gateway.requests";
    public const string TokensInstrument = "microapps.gateway.tokens";
    public const string CostInstrument = "microapps.gateway.cost";
    public const string CacheInstrument = "microapps.gateway.cache.lookups";
    public const string LatencyInstrument = "microapps.gateway.latency";
    public const string RefusalsInstrument = "microapps.gateway.refusals";

    /// <summary>The <c>app</c> label of calls whose key did not authenticate: their app id is the caller's claim, not an app.</summary>
    public const string Unauthenticated = "_unauthenticated";

    /// <summary>The label of a missing tier, app or reason (a call refused before routing, a refusal without a code).</summary>
    public const string None = "_none";

    /// <summary>
    /// Latency buckets in milliseconds: cache hits and refusals answer in single-digit milliseconds, model calls in
    /// hundreds of milliseconds to tens of seconds, so the boundaries are dense at both ends.
    /// </summary>
    public static readonly IReadOnlyList<double> LatencyBucketsMs =
        [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000];

    // Tiers come from configuration and refusal codes from code, so these caps are a guard, not a policy.
    private const int TierCap = 64;
    private const int ReasonCap = 64;

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _tokens;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _cache;
    private readonly Histogram<double> _latency;
    private readonly Counter<long> _refusals;
    private readonly SeriesCap _apps;
    private readonly SeriesCap _tiers = new(TierCap);
    private readonly SeriesCap _reasons = new(ReasonCap);

    public GatewayMetrics(IMeterFactory? meterFactory = null, IOptions<GatewayMetricsOptions>? options = null)
    {
        var settings = options?.Value ?? new GatewayMetricsOptions();
        _apps = new SeriesCap(settings.PerAppSeriesCap);
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _requests = _meter.CreateCounter<long>(RequestsInstrument, "{request}", "Governed model calls by outcome, tier and app.");
        _tokens = _meter.CreateCounter<long>(TokensInstrument, "{token}", "Tokens used by governed calls, by direction (input, output), tier and app.");
        _cost = _meter.CreateCounter<double>(CostInstrument, "USD", "Actual cost of governed calls, by tier and app.");
        _cache = _meter.CreateCounter<long>(CacheInstrument, "{lookup}", "Response cache lookups by result (hit, near_hit, miss, bypass), tier and app.");
        _latency = _meter.CreateHistogram(
            LatencyInstrument,
            "ms",
            "Latency of governed calls by outcome and tier.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });
        _refusals = _meter.CreateCounter<long>(RefusalsInstrument, "{request}", "Calls the platform refused (blocked, throttled, invalid, unauthorized) by reason and app.");
    }

    /// <summary>Distinct apps with their own series so far (at most the cap).</summary>
    public int AppsWithOwnSeries => _apps.Admitted;

    /// <summary>Records one governed call. Never throws for odd values: telemetry must not fail a call.</summary>
    public void Record(TraceEvent traceEvent)
    {
        ArgumentNullException.ThrowIfNull(traceEvent);
        if (!_requests.Enabled && !_latency.Enabled && !_tokens.Enabled && !_cost.Enabled && !_cache.Enabled && !_refusals.Enabled)
        {
            // Nobody collects (no exporter): skip the labelling, which takes the cap's lock.
            return;
        }

        var outcome = TraceOutcomes.Normalize(traceEvent.Outcome);
        var tier = string.IsNullOrEmpty(traceEvent.ModelTier) ? None : _tiers.Label(traceEvent.ModelTier);

        // A key that did not authenticate names an app nobody vouched for; admitting it would let anyone fill the cap.
        var app = outcome == TraceOutcomes.Unauthorized ? Unauthenticated
            : string.IsNullOrEmpty(traceEvent.AppId) ? None
            : _apps.Label(traceEvent.AppId);

        _requests.Add(1, new TagList { { "outcome", outcome }, { "tier", tier }, { "app", app } });
        _latency.Record(traceEvent.LatencyMs, new TagList { { "outcome", outcome }, { "tier", tier } });
        // A cache hit's event carries the tokens its answer stands for; no model processed them.
        if (traceEvent.TokensIn > 0 && !traceEvent.CacheHit)
        {
            _tokens.Add(traceEvent.TokensIn, new TagList { { "direction", "input" }, { "tier", tier }, { "app", app } });
        }

        if (traceEvent.TokensOut > 0 && !traceEvent.CacheHit)
        {
            _tokens.Add(traceEvent.TokensOut, new TagList { { "direction", "output" }, { "tier", tier }, { "app", app } });
        }

        if (traceEvent.CostActualUsd > 0)
        {
            _cost.Add((double)traceEvent.CostActualUsd, new TagList { { "tier", tier }, { "app", app } });
        }

        if (CacheResultOf(traceEvent, outcome) is { } cache)
        {
            _cache.Add(1, new TagList { { "result", cache }, { "tier", tier }, { "app", app } });
        }

        if (outcome is TraceOutcomes.Blocked or TraceOutcomes.Throttled or TraceOutcomes.Invalid or TraceOutcomes.Unauthorized)
        {
            var reason = string.IsNullOrEmpty(traceEvent.ErrorCode) ? None : _reasons.Label(traceEvent.ErrorCode);
            _refusals.Add(1, new TagList { { "outcome", outcome }, { "reason", reason }, { "app", app } });
        }
    }

    private static string? CacheResultOf(TraceEvent traceEvent, string outcome)
    {
        if (traceEvent.CacheHit || outcome == TraceOutcomes.CacheHit)
        {
            return traceEvent.Saving == Savings.SavingKinds.NearDuplicate ? "near_hit" : "hit";
        }

        // The cache step writes its decision; calls refused before it never looked the cache up.
        foreach (var decision in traceEvent.Decisions ?? [])
        {
            switch (decision)
            {
                case "cache:miss":
                    return "miss";
                case "cache:bypass":
                    return "bypass";
            }
        }

        return null;
    }

    public void Dispose() => _meter.Dispose();
}

/// <summary>Label bounds of the platform metrics (configuration section <c>Telemetry:Metrics</c>).</summary>
public sealed class GatewayMetricsOptions
{
    public const string Section = "Telemetry:Metrics";

    /// <summary>Largest value accepted for <see cref="PerAppSeriesCap"/>.</summary>
    public const int MaxPerAppSeriesCap = 10_000;

    /// <summary>
    /// How many apps get their own <c>app</c> label value (first come, first served, per process); every later app is
    /// reported as <c>_other</c>. 0 puts every app under <c>_other</c>.
    /// </summary>
    public int PerAppSeriesCap { get; set; } = 100;
}

public sealed class GatewayMetricsOptionsValidator : IValidateOptions<GatewayMetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayMetricsOptions options) =>
        options.PerAppSeriesCap is < 0 or > GatewayMetricsOptions.MaxPerAppSeriesCap
            ? ValidateOptionsResult.Fail($"Telemetry:Metrics:PerAppSeriesCap {options.PerAppSeriesCap} is out of range (0-{GatewayMetricsOptions.MaxPerAppSeriesCap}).")
            : ValidateOptionsResult.Success;
}
