using System.Diagnostics;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.GrainTests.Gateway;

/// <summary>
/// The governed call's step spans on the in-process cluster: children of Orleans' span of the grain call, in the
/// caller's trace. The listener is process-wide, so it samples only the trace each test starts.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GovernedCallSpansTests(ClusterFixture fixture)
{
    private sealed class TraceRecorder : IDisposable
    {
        private readonly ActivitySource _caller = new($"MicroApps.Orleans.GrainTests.caller-{Guid.NewGuid():N}");
        private readonly ActivityListener _listener;
        private readonly List<Activity> _started = [];
        private ActivityTraceId _traceId;

        public TraceRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source == _caller
                    || source.Name == GovernedCallPipeline.ActivitySourceName
                    || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
                Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                    options.Source == _caller || options.Parent.TraceId == _traceId ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None,
                ActivityStarted = activity =>
                {
                    if (activity.TraceId == _traceId)
                    {
                        lock (_started)
                        {
                            _started.Add(activity);
                        }
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public Activity StartCaller()
        {
            var caller = _caller.StartActivity("test caller", ActivityKind.Client)!;
            _traceId = caller.TraceId;
            return caller;
        }

        public List<Activity> Started()
        {
            lock (_started)
            {
                return [.. _started];
            }
        }

        public void Dispose()
        {
            _listener.Dispose();
            _caller.Dispose();
        }
    }

    private async Task<(string AppId, string ApiKey)> NewAppAsync()
    {
        var appId = $"span-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest("Span test", "ada@example.org", "finance", Audience.Internal, [], ["local"], "local", new AppQuotas(0, 0), "", "v1"));
        await fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}").ConfigureAsync(new BudgetSettings(10m, BudgetPeriod.Day));
        return (appId, (await app.IssueKeyAsync("test")).ApiKey);
    }

    private static GovernedChatRequest Request(string apiKey) =>
        new(apiKey, Guid.NewGuid().ToString("N"), "local", [new ChatTurn("user", $"Summarise the invoice backlog report {Guid.NewGuid():N}. It grew in March.")], ChatParameters.None);

    private static Activity GrainCall(IEnumerable<Activity> spans) =>
        Assert.Single(spans, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal)
                                  && s.Kind == ActivityKind.Server
                                  && s.DisplayName.Contains(nameof(IGovernedCallGrain), StringComparison.Ordinal));

    [Fact]
    public async Task Every_step_has_a_span_under_the_grain_calls_span_in_the_callers_trace()
    {
        var (appId, apiKey) = await NewAppAsync();
        using var recorder = new TraceRecorder();
        GovernedChatResult result;
        Activity caller;
        using (caller = recorder.StartCaller())
        {
            result = await fixture.Grains.GetGrain<IGovernedCallGrain>(0).CompleteAsync(Request(apiKey));
        }

        Assert.Equal(GovernedOutcome.Completed, result.Outcome);
        var spans = recorder.Started();
        var grainCall = GrainCall(spans);
        Assert.Equal(caller.TraceId, grainCall.TraceId);
        var steps = spans.Where(s => s.Source.Name == GovernedCallPipeline.ActivitySourceName).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(
            ["Trace", "AuthenticateAndAdmit", "PiiScan", "Policy", "Route", "CostAwareRoute", "Budget", "Cache", "Backend"],
            steps.Select(s => s.DisplayName["governed_call ".Length..]));
        Assert.All(steps, step =>
        {
            Assert.Equal(caller.TraceId, step.TraceId);
            Assert.Equal(grainCall.SpanId, step.ParentSpanId);
            Assert.Equal(appId, step.GetTagItem(GovernedCallPipeline.AppIdTag));
            Assert.Equal("local", step.GetTagItem(GovernedCallPipeline.TierTag));
            Assert.Equal(TraceOutcomes.Success, step.GetTagItem(GovernedCallPipeline.OutcomeTag));
            Assert.Equal(ActivityStatusCode.Unset, step.Status);
            Assert.True(step.IsStopped, $"{step.DisplayName} still running after the call returned");
        });
        Assert.Contains("cache:miss", (string[])steps.Single(s => s.DisplayName == "governed_call Cache").GetTagItem(GovernedCallPipeline.DecisionsTag)!);
    }

    [Fact]
    public async Task A_refused_call_ends_at_the_refusing_steps_span_which_carries_the_error()
    {
        var (appId, apiKey) = await NewAppAsync();
        var wrongKey = apiKey[..^4] + (apiKey.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        using var recorder = new TraceRecorder();
        GovernedChatResult result;
        using (recorder.StartCaller())
        {
            result = await fixture.Grains.GetGrain<IGovernedCallGrain>(0).CompleteAsync(Request(wrongKey));
        }

        Assert.Equal(GovernedOutcome.Unauthorized, result.Outcome);
        var spans = recorder.Started();
        var grainCall = GrainCall(spans);
        var steps = spans.Where(s => s.Source.Name == GovernedCallPipeline.ActivitySourceName).ToList();
        Assert.Equal(["governed_call Trace", "governed_call AuthenticateAndAdmit"], steps.OrderBy(s => s.StartTimeUtc).Select(s => s.DisplayName));
        Assert.All(steps, s => Assert.Equal(grainCall.SpanId, s.ParentSpanId));
        var admit = steps.Single(s => s.DisplayName == "governed_call AuthenticateAndAdmit");
        Assert.Equal(ActivityStatusCode.Error, admit.Status);
        Assert.Equal(result.ErrorCode, admit.GetTagItem(GovernedCallPipeline.ErrorCodeTag));
        Assert.Equal(TraceOutcomes.Unauthorized, admit.GetTagItem(GovernedCallPipeline.OutcomeTag));
        Assert.Equal(appId, admit.GetTagItem(GovernedCallPipeline.AppIdTag));
        Assert.Equal(ActivityStatusCode.Unset, steps.Single(s => s.DisplayName == "governed_call Trace").Status);
    }
}
