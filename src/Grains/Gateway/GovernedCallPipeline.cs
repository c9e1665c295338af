using System.Diagnostics;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// The registered steps composed once into a single delegate. When someone listens to the activity source
/// <see cref="ActivitySourceName"/>, every step runs inside a span <c>governed_call {Step}</c> (the step type's name
/// without "Step") whose parent is the activity current when the pipeline started (Orleans' span of the grain call),
/// so the step spans are siblings in the caller's trace. Without a listener a step costs one
/// <see cref="ActivitySource.HasListeners"/> check.
/// </summary>
public sealed class GovernedCallPipeline
{
    /// <summary>Name of the platform's activity source (the same as its meter, <see cref="GatewayMetrics.MeterName"/>).</summary>
    public const string ActivitySourceName = GatewayMetrics.MeterName;

    /// <summary>Prefix of every step span's name.</summary>
    public const string SpanPrefix = "governed_call ";

    public const string AppIdTag = "microapps.app_id";
    public const string RequestIdTag = "microapps.request_id";
    public const string TierTag = "microapps.tier";
    public const string StepTag = "microapps.step";
    public const string OutcomeTag = "microapps.outcome";
    public const string ErrorCodeTag = "microapps.error_code";
    public const string DecisionsTag = "microapps.decisions";

    /// <summary>The platform's activity source; step spans start here.</summary>
    public static readonly ActivitySource Source = new(ActivitySourceName);

    private const string SpanStateKey = "microapps.otel.step-spans";

    private readonly GovernedCallDelegate _entry;
    private readonly string[] _spanNames;
    private readonly string[] _stepNames;

    public GovernedCallPipeline(IEnumerable<IGovernedCallStep> steps)
    {
        Steps = steps.ToArray();
        _stepNames = Steps.Select(StepName).ToArray();
        _spanNames = _stepNames.Select(name => SpanPrefix + name).ToArray();

        // Reaching the end means no step produced an answer: a wiring mistake, reported rather than hung.
        GovernedCallDelegate next = static context =>
        {
            if (context.Result is null)
            {
                context.Fail(GovernedOutcome.BackendFailed, "no_backend_step", "No step of the governed-call pipeline produced an answer.");
            }

            return ValueTask.CompletedTask;
        };

        for (var i = Steps.Count - 1; i >= 0; i--)
        {
            var step = Steps[i];
            var index = i;
            var following = next;
            next = context =>
            {
                if (context.Result is not null)
                {
                    return ValueTask.CompletedTask;
                }

                return Source.HasListeners() ? InvokeTracedAsync(index, step, context, following) : step.InvokeAsync(context, following);
            };
        }

        _entry = next;
    }

    /// <summary>The steps in the order they run.</summary>
    public IReadOnlyList<IGovernedCallStep> Steps { get; }

    public ValueTask InvokeAsync(GovernedCallContext context) => _entry(context);

    /// <summary>The name a step's span carries: its type name without the "Step" suffix.</summary>
    public static string StepName(IGovernedCallStep step)
    {
        var name = step.GetType().Name;
        return name.Length > 4 && name.EndsWith("Step", StringComparison.Ordinal) ? name[..^4] : name;
    }

    private async ValueTask InvokeTracedAsync(int index, IGovernedCallStep step, GovernedCallContext context, GovernedCallDelegate following)
    {
        var state = SpanState.For(context, Steps.Count);

        // Each step calls the next inside its own span; starting from the pipeline's parent instead keeps every step
        // span a direct child of the grain call. The change to Activity.Current stays inside this async method.
        // With no parent at all the spans nest, so that they still share one trace.
        if (state.Parent is not null)
        {
            Activity.Current = state.Parent;
        }

        using var activity = Source.StartActivity(_spanNames[index], ActivityKind.Internal);
        if (activity is null)
        {
            await step.InvokeAsync(context, following);
            return;
        }

        state.Entered(index, context.Decisions.Count);
        activity.SetTag(StepTag, _stepNames[index]);
        activity.SetTag(RequestIdTag, context.RequestId);
        try
        {
            await step.InvokeAsync(context, following);
        }
        catch (Exception ex)
        {
            activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            activity.AddException(ex);
            throw;
        }
        finally
        {
            state.Left(index, context.Decisions.Count);
            Describe(activity, context, state, index);
        }
    }

    private static void Describe(Activity activity, GovernedCallContext context, SpanState state, int index)
    {
        if (context.AppId is { Length: > 0 } appId)
        {
            activity.SetTag(AppIdTag, appId);
        }

        if (context.Tier is { Length: > 0 } tier)
        {
            activity.SetTag(TierTag, tier);
        }

        var decisions = state.DecisionsOf(index, context.Decisions);
        if (decisions.Length > 0)
        {
            activity.SetTag(DecisionsTag, decisions);
        }

        if (context.Result is not { } result)
        {
            return;
        }

        var outcome = TraceOutcomes.Of(result.Outcome);
        activity.SetTag(OutcomeTag, outcome);

        // The refusal belongs to the step that ended the call (it did not pass the call on); the steps around it
        // only carried it back.
        if (outcome is not (TraceOutcomes.Success or TraceOutcomes.CacheHit) && !state.Ran(index + 1))
        {
            activity.SetTag(ErrorCodeTag, result.ErrorCode);
            if (activity.Status != ActivityStatusCode.Error)
            {
                activity.SetStatus(ActivityStatusCode.Error, result.ErrorCode);
            }
        }
    }

    /// <summary>
    /// Per call, only while traced: the grain call's activity and where each step's own decisions start and end, so
    /// a step span lists the decisions its step made rather than those of the steps it wraps.
    /// </summary>
    private sealed class SpanState
    {
        private readonly int[] _decisionsAtStart;
        private readonly int[] _decisionsAtEnd;
        private readonly bool[] _ran;

        private SpanState(Activity? parent, int steps)
        {
            Parent = parent;
            _decisionsAtStart = new int[steps + 1];
            _decisionsAtEnd = new int[steps + 1];
            _ran = new bool[steps + 1];
        }

        public Activity? Parent { get; }

        public static SpanState For(GovernedCallContext context, int steps)
        {
            if (context.Items.TryGetValue(SpanStateKey, out var existing) && existing is SpanState state)
            {
                return state;
            }

            // The first traced step captures the parent before any step span is current.
            state = new SpanState(Activity.Current, steps);
            context.Items[SpanStateKey] = state;
            return state;
        }

        public bool Ran(int index) => index < _ran.Length && _ran[index];

        public void Entered(int index, int decisions)
        {
            _ran[index] = true;
            _decisionsAtStart[index] = decisions;
        }

        public void Left(int index, int decisions) => _decisionsAtEnd[index] = decisions;

        /// <summary>The decisions made by the step itself: before it passed the call on, and after the rest returned.</summary>
        public string[] DecisionsOf(int index, List<string> decisions)
        {
            var start = _decisionsAtStart[index];
            var end = Math.Min(_decisionsAtEnd[index], decisions.Count);
            if (!Ran(index + 1))
            {
                return decisions.Skip(start).Take(end - start).ToArray();
            }

            var innerStart = Math.Clamp(_decisionsAtStart[index + 1], start, end);
            var innerEnd = Math.Clamp(_decisionsAtEnd[index + 1], innerStart, end);
            return decisions.Skip(start).Take(innerStart - start).Concat(decisions.Skip(innerEnd).Take(end - innerEnd)).ToArray();
        }
    }

}
