using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Savings;

/// <summary>
/// Decides whether a completed governed call is also sent to a candidate model (a shadow evaluation) and, if so,
/// runs it in the background: the candidate's answer is scored against the served one and recorded as quality
/// evidence. Shadow calls are charged to the platform's budget, never to the app's. The savings router calls
/// <see cref="Consider"/> once per call after the rest of the pipeline returned; it must not delay the answer.
/// </summary>
public interface IShadowEvaluator
{
    /// <summary>Starts a shadow evaluation of <paramref name="context"/> when its call is picked; returns at once.</summary>
    void Consider(GovernedCallContext context);
}

/// <summary>The evaluator of a silo that runs no shadow evaluations.</summary>
public sealed class NoShadowEvaluator : IShadowEvaluator
{
    public void Consider(GovernedCallContext context)
    {
    }
}
