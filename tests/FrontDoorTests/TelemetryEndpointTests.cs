using System.Diagnostics;
using System.Net;
using MicroApps.Orleans.Client;
using MicroApps.Orleans.FakeOpenAI;
using MicroApps.Orleans.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// The front door wired from configuration alone (co-hosted silo, <c>Orleans:Provider=Localhost</c>), as an operator
/// runs it: the Prometheus scrape endpoint, its path and token, and one trace id from the HTTP request to the steps.
/// </summary>
public sealed class TelemetryEndpointTests
{
    private const string ScrapeToken = "scrape-token-0123456789abcdef";

    private static string[] Settings(string upstreamBaseUrl, params string[] telemetry)
    {
        var (siloPort, gatewayPort) = Ports.TwoFree();
        return FrontDoorFixture.Settings(
            upstreamBaseUrl,
            [
                "--FrontDoor:CoHostSilo=true",
                "--Orleans:Provider=Localhost",
                $"--Orleans:ClusterId=telemetry-{Guid.NewGuid():N}",
                "--Orleans:ServiceId=telemetry-tests",
                $"--Orleans:SiloPort={siloPort}",
                $"--Orleans:GatewayPort={gatewayPort}",
                .. telemetry,
            ]);
    }

    /// <summary>The sample lines of one metric (name followed by labels or a space), without comments.</summary>
    private static List<string> Samples(string exposition, string metric) =>
        exposition.Split('\n').Where(line => line.StartsWith(metric + "{", StringComparison.Ordinal) || line.StartsWith(metric + " ", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task With_prometheus_enabled_metrics_serves_the_governed_call_metrics_and_orleans_metrics()
    {
        await using var upstream = await FakeOpenAIServer.StartAsync();
        await using var frontDoor = await OwnFrontDoor.StartAsync(Settings(upstream.BaseUrl, "--Telemetry:Prometheus:Enabled=true"));
        var appId = FrontDoorFixture.NewAppId("prom");
        var key = await frontDoor.CreateAppWithKeyAsync(appId);

        using (var answered = await frontDoor.ChatAsync(key, FrontDoorFixture.StandardModel))
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        using (var refused = await frontDoor.ChatAsync(key, FrontDoorFixture.PremiumModel))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using var scrape = await frontDoor.ScrapeAsync("/metrics");
        var text = await scrape.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Equal("text/plain", scrape.Content.Headers.ContentType?.MediaType);
        var requests = Samples(text, "microapps_gateway_requests_total");
        Assert.Contains(requests, l => l.Contains($"app=\"{appId}\"") && l.Contains("outcome=\"success\"") && l.Contains("tier=\"standard\"") && l.EndsWith(" 1"));
        Assert.Contains(requests, l => l.Contains($"app=\"{appId}\"") && l.Contains("outcome=\"blocked\"") && l.EndsWith(" 1"));
        Assert.Contains(Samples(text, "microapps_gateway_refusals_total"), l => l.Contains($"app=\"{appId}\"") && l.Contains("outcome=\"blocked\""));
        Assert.Contains(Samples(text, "microapps_gateway_tokens_total"), l => l.Contains($"app=\"{appId}\"") && l.Contains("direction=\"output\""));
        Assert.Contains(Samples(text, "microapps_gateway_cost_USD_total"), l => l.Contains($"app=\"{appId}\""));
        Assert.Contains(Samples(text, "microapps_gateway_cache_lookups_total"), l => l.Contains($"app=\"{appId}\"") && l.Contains("result=\"miss\""));
        Assert.Contains(Samples(text, "microapps_gateway_latency_milliseconds_bucket"), l => l.Contains("le=\"250\"") && l.Contains("outcome=\"success\""));

        // The co-hosted silo's own meter: the app's grain was activated in this process, and Orleans counted it.
        Assert.Contains(Samples(text, "orleans_catalog_activation_created_total"), l => l.Contains("grain_type=\"microapp\""));
    }

    [Fact]
    public async Task The_scrape_endpoint_moves_to_its_configured_path_and_answers_only_the_scrape_token()
    {
        await using var frontDoor = await OwnFrontDoor.StartAsync(Settings(
            "http://127.0.0.1:9/v1",
            "--Telemetry:Prometheus:Enabled=true",
            "--Telemetry:Prometheus:ScrapeEndpointPath=/internal/prometheus",
            $"--Telemetry:Prometheus:ScrapeToken={ScrapeToken}"));

        using var oldPath = await frontDoor.ScrapeAsync("/metrics", ScrapeToken);
        using var anonymous = await frontDoor.ScrapeAsync("/internal/prometheus");
        using var wrong = await frontDoor.ScrapeAsync("/internal/prometheus", ScrapeToken + "x");
        using var scrape = await frontDoor.ScrapeAsync("/internal/prometheus", ScrapeToken);

        Assert.Equal(HttpStatusCode.NotFound, oldPath.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.ToString());
        Assert.DoesNotContain("orleans_", await anonymous.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("# TYPE orleans_", await scrape.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Without_prometheus_there_is_no_scrape_endpoint()
    {
        await using var frontDoor = await OwnFrontDoor.StartAsync(Settings("http://127.0.0.1:9/v1"));

        using var scrape = await frontDoor.ScrapeAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, scrape.StatusCode);
    }

    [Fact]
    public async Task The_front_door_span_the_orleans_spans_and_the_step_spans_share_the_callers_trace_id()
    {
        await using var upstream = await FakeOpenAIServer.StartAsync();
        await using var frontDoor = await OwnFrontDoor.StartAsync(Settings(upstream.BaseUrl));
        var key = await frontDoor.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("span"));
        var traceId = ActivityTraceId.CreateRandom();
        var started = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or GovernedCallPipeline.ActivitySourceName || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Parent.TraceId == traceId || options.TraceId == traceId ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None,
            ActivityStarted = activity =>
            {
                if (activity.TraceId == traceId)
                {
                    lock (started)
                    {
                        started.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        using (var answered = await frontDoor.ChatAsync(key, FrontDoorFixture.StandardModel, $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01"))
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        List<Activity> spans;
        lock (started)
        {
            spans = [.. started];
        }

        Assert.Contains(spans, s => s.Source.Name == "Microsoft.AspNetCore");
        var steps = spans.Where(s => s.Source.Name == GovernedCallPipeline.ActivitySourceName).ToList();
        Assert.Contains(steps, s => s.DisplayName == "governed_call Backend");
        var grainCall = Assert.Single(spans, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.Kind == ActivityKind.Server && s.DisplayName.Contains("GovernedCall"));
        Assert.All(steps, s => Assert.Equal(grainCall.SpanId, s.ParentSpanId));
    }

    [Theory]
    [InlineData("Telemetry:Prometheus:ScrapeEndpointPath", "--Telemetry:Prometheus:ScrapeEndpointPath=metrics")]
    [InlineData("Telemetry:Prometheus:ScrapeToken", "--Telemetry:Prometheus:ScrapeToken=short")]
    [InlineData("Telemetry:Exporter", "--Telemetry:Exporter=prometheus")]
    [InlineData("Telemetry:Metrics:PerAppSeriesCap", "--Telemetry:Metrics:PerAppSeriesCap=-5")]
    [InlineData("Telemetry:Prometheus:Enabled", "--Telemetry:Prometheus:Enabled=sometimes")]
    public void A_bad_telemetry_setting_stops_the_front_door_naming_it(string named, string setting)
    {
        var failure = Assert.Throws<OptionsValidationException>(() =>
            FrontDoorApplication.Create(Settings("http://127.0.0.1:9/v1", "--Telemetry:Prometheus:Enabled=true", setting)));

        Assert.Contains(named, failure.Message);
        if (named.EndsWith("ScrapeToken", StringComparison.Ordinal))
        {
            Assert.DoesNotContain("short", failure.Message);
        }
    }
}
