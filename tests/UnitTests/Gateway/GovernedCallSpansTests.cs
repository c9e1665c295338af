using System.Diagnostics;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.UnitTests.Gateway;

/// <summary>
/// Step spans of <see cref="GovernedCallPipeline"/> without a cluster. The listener is process-wide, so every test that
/// listens to the platform's source, or needs nobody to, is in this one class (xunit runs a class's tests one at a time).
/// </summary>
public sealed class GovernedCallSpansTests
{
    private static GovernedCallContext Context(string requestId = "r1") =>
        new(new GovernedChatRequest("k", requestId, "auto", [new ChatTurn("user", "hi")], ChatParameters.None), requestId, TimeProvider.System, null, CancellationToken.None);

    private sealed class AdmitStep : IGovernedCallStep
    {
        public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
        {
            context.AppId = "app-spans";
            context.Decisions.Add("admitted");
            await next(context);
            context.Decisions.Add("admit:after");
        }
    }

    private sealed class RouteStep(string tier) : IGovernedCallStep
    {
        public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
        {
            await Task.Yield();
            context.Tier = tier;
            context.Decisions.Add($"route:{tier}");
            await next(context);
        }
    }

    private sealed class RefuseStep : IGovernedCallStep
    {
        public ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
        {
            context.Fail(GovernedOutcome.BudgetExceeded, "budget_exceeded", "over budget");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class AnswerStep : IGovernedCallStep
    {
        public ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
        {
            context.Decisions.Add("answered");
            context.Result = new GovernedChatResult(GovernedOutcome.Completed, context.RequestId, null, null, null, null, "m", context.Tier ?? "", "ok", "stop", TokenUsage.Zero, 0m, DateTimeOffset.UnixEpoch);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class ThrowStep : IGovernedCallStep
    {
        public ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next) => throw new InvalidOperationException("boom");
    }

    private sealed class PassStep : IGovernedCallStep
    {
        public ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next) => next(context);
    }

    /// <summary>Records the platform's spans that belong to one trace.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        // Created before the listener, which must see it (a static would be created lazily, inside the listener's own check).
        private readonly ActivitySource _caller = new($"MicroApps.Orleans.UnitTests.caller-{Guid.NewGuid():N}");
        private readonly ActivityListener _listener;
        private readonly List<Activity> _stopped = [];

        public SpanRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == GovernedCallPipeline.ActivitySourceName || source == _caller,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    lock (_stopped)
                    {
                        _stopped.Add(activity);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public Activity StartCaller() => _caller.StartActivity("grain call", ActivityKind.Server)!;

        public IReadOnlyList<Activity> StepSpans(ActivityTraceId traceId)
        {
            lock (_stopped)
            {
                return _stopped.Where(a => a.Source.Name == GovernedCallPipeline.ActivitySourceName && a.TraceId == traceId).ToList();
            }
        }

        public void Dispose()
        {
            _listener.Dispose();
            _caller.Dispose();
        }
    }

    private static object? Tag(Activity span, string key) => span.GetTagItem(key);

    [Fact]
    public async Task Each_step_runs_in_its_own_span_a_child_of_the_calling_activity_with_its_own_decisions()
    {
        using var recorder = new SpanRecorder();
        var pipeline = new GovernedCallPipeline([new AdmitStep(), new RouteStep("standard"), new AnswerStep()]);
        var context = Context();
        Activity caller;
        using (caller = recorder.StartCaller())
        {
            await pipeline.InvokeAsync(context);
            Assert.Same(caller, Activity.Current);
        }

        var spans = recorder.StepSpans(caller.TraceId);
        Assert.Equal(["governed_call Admit", "governed_call Route", "governed_call Answer"], spans.OrderBy(s => s.StartTimeUtc).Select(s => s.DisplayName));
        Assert.All(spans, span =>
        {
            Assert.Equal(caller.SpanId, span.ParentSpanId);
            Assert.Equal(ActivityStatusCode.Unset, span.Status);
            Assert.Equal("app-spans", Tag(span, GovernedCallPipeline.AppIdTag));
            Assert.Equal("r1", Tag(span, GovernedCallPipeline.RequestIdTag));
            Assert.Equal("standard", Tag(span, GovernedCallPipeline.TierTag));
            Assert.Equal(TraceOutcomes.Success, Tag(span, GovernedCallPipeline.OutcomeTag));
        });
        var admit = spans.Single(s => s.DisplayName == "governed_call Admit");
        Assert.Equal(["admitted", "admit:after"], (string[])Tag(admit, GovernedCallPipeline.DecisionsTag)!);
        Assert.Equal(["route:standard"], (string[])Tag(spans.Single(s => s.DisplayName == "governed_call Route"), GovernedCallPipeline.DecisionsTag)!);
        Assert.Equal(["answered"], (string[])Tag(spans.Single(s => s.DisplayName == "governed_call Answer"), GovernedCallPipeline.DecisionsTag)!);
    }

    [Fact]
    public async Task The_step_that_refused_the_call_has_error_status_and_the_code_and_later_steps_have_no_span()
    {
        using var recorder = new SpanRecorder();
        var pipeline = new GovernedCallPipeline([new AdmitStep(), new RefuseStep(), new AnswerStep()]);
        Activity caller;
        using (caller = recorder.StartCaller())
        {
            await pipeline.InvokeAsync(Context());
        }

        var spans = recorder.StepSpans(caller.TraceId);
        Assert.Equal(["governed_call Admit", "governed_call Refuse"], spans.OrderBy(s => s.StartTimeUtc).Select(s => s.DisplayName));
        var refuse = spans.Single(s => s.DisplayName == "governed_call Refuse");
        Assert.Equal(ActivityStatusCode.Error, refuse.Status);
        Assert.Equal("budget_exceeded", refuse.StatusDescription);
        Assert.Equal("budget_exceeded", Tag(refuse, GovernedCallPipeline.ErrorCodeTag));
        Assert.Equal(TraceOutcomes.Throttled, Tag(refuse, GovernedCallPipeline.OutcomeTag));
        var admit = spans.Single(s => s.DisplayName == "governed_call Admit");
        Assert.Equal(ActivityStatusCode.Unset, admit.Status);
        Assert.Equal(TraceOutcomes.Throttled, Tag(admit, GovernedCallPipeline.OutcomeTag));
        Assert.Null(Tag(admit, GovernedCallPipeline.ErrorCodeTag));
    }

    [Fact]
    public async Task An_exception_marks_the_spans_it_passed_through_as_errors()
    {
        using var recorder = new SpanRecorder();
        var pipeline = new GovernedCallPipeline([new PassStep(), new ThrowStep()]);
        Activity caller;
        using (caller = recorder.StartCaller())
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.InvokeAsync(Context()).AsTask());
        }

        var spans = recorder.StepSpans(caller.TraceId);
        Assert.Equal(2, spans.Count);
        Assert.All(spans, span =>
        {
            Assert.Equal(ActivityStatusCode.Error, span.Status);
            Assert.Equal(nameof(InvalidOperationException), span.StatusDescription);
            Assert.Contains(span.Events, e => e.Name == "exception");
        });
    }

    private sealed class PrebuiltAnswerStep : IGovernedCallStep
    {
        private static readonly GovernedChatResult Answer =
            new(GovernedOutcome.Completed, "r", null, null, null, null, "m", "local", "ok", "stop", TokenUsage.Zero, 0m, DateTimeOffset.UnixEpoch);

        public ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
        {
            context.Result = Answer;
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Without_a_listener_no_span_is_started_and_a_synchronous_pipeline_allocates_nothing()
    {
        Assert.False(GovernedCallPipeline.Source.HasListeners());
        var pipeline = new GovernedCallPipeline([new PassStep(), new PassStep(), new PrebuiltAnswerStep()]);
        await pipeline.InvokeAsync(Context());
        var context = Context();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var pending = pipeline.InvokeAsync(context);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Equal(GovernedOutcome.Completed, context.Result!.Outcome);
        Assert.Equal(0, allocated);
        Assert.Null(Activity.Current);
        Assert.Empty(context.Items);
    }
}
