namespace MicroApps.Orleans.Gateway;

/// <summary>The registered steps composed once into a single delegate.</summary>
public sealed class GovernedCallPipeline
{
    private readonly GovernedCallDelegate _entry;

    public GovernedCallPipeline(IEnumerable<IGovernedCallStep> steps)
    {
        Steps = steps.ToArray();

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
            var following = next;
            next = context => context.Result is null ? step.InvokeAsync(context, following) : ValueTask.CompletedTask;
        }

        _entry = next;
    }

    /// <summary>The steps in the order they run.</summary>
    public IReadOnlyList<IGovernedCallStep> Steps { get; }

    public ValueTask InvokeAsync(GovernedCallContext context) => _entry(context);
}
